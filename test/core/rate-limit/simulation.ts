import { admits, windowAt } from '../../../core/rate-limit/sliding-window.js';

/** Admitted counts of the sliding-window counter and of an exact sliding log over the same arrivals (ms). */
export const simulate = (arrivalsMs: readonly number[], limit: number, windowSeconds: number): { counter: number; exact: number } => {
  const windowMs = windowSeconds * 1000;
  const counts = new Map<number, number>();
  let counter = 0;
  const log: number[] = [];
  let head = 0;
  let exact = 0;
  for (const t of arrivalsMs) {
    const { index, fraction } = windowAt(t, windowSeconds);
    const previous = counts.get(index - 1) ?? 0;
    const current = counts.get(index) ?? 0;
    if (admits(limit, previous, current, fraction)) {
      counts.set(index, current + 1);
      counter += 1;
    }
    while (head < log.length && (log[head] as number) <= t - windowMs) head += 1;
    if (log.length - head < limit) {
      log.push(t);
      exact += 1;
    }
  }
  return { counter, exact };
};

/** Deterministic pseudo-random numbers (mulberry32) so the simulation is repeatable. */
export const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Poisson arrivals at `perWindow` per window over `windows` windows. */
export const poissonArrivals = (perWindow: number, windowSeconds: number, windows: number, seed = 1): number[] => {
  const next = random(seed);
  const meanGapMs = (windowSeconds * 1000) / perWindow;
  const end = windows * windowSeconds * 1000;
  const out: number[] = [];
  for (let t = -Math.log(1 - next()) * meanGapMs; t < end; t += -Math.log(1 - next()) * meanGapMs) out.push(t);
  return out;
};
