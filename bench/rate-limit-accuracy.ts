// Admitted counts of the sliding-window counter against an exact sliding log over the same Poisson arrivals.
import { poissonArrivals, simulate } from '../test/core/rate-limit/simulation.js';
import { print } from './measure.js';

/** Prints admitted ÷ exact at several multiples of the limit, and the boundary burst. */
export const rateLimitAccuracyBenchmark = async (): Promise<void> => {
  const limit = 600;
  const windowSeconds = 60;
  print(`## Sliding-window accuracy (limit ${limit}/${windowSeconds}s, 200 windows of Poisson arrivals)`);
  print('');
  print('| offered load | admitted (counter) | admitted (exact log) | counter ÷ exact |');
  print('|---|---|---|---|');
  for (const multiple of [0.5, 1, 1.1, 2, 3]) {
    const { counter, exact } = simulate(poissonArrivals(limit * multiple, windowSeconds, 200, 42), limit, windowSeconds);
    print(`| ${multiple}× | ${counter} | ${exact} | ${(counter / exact).toFixed(4)} |`);
  }
  const boundary = 11 * windowSeconds * 1000;
  const burst = Array.from({ length: 3 * limit }, (_, i) => boundary - 500 + i / 1.8);
  print('');
  print(
    `Burst of ${3 * limit} within 1 s around a window boundary: ${simulate(burst, limit, windowSeconds).counter} admitted (${(simulate(burst, limit, windowSeconds).counter / limit).toFixed(3)}× the limit).`,
  );
  print('');
};
