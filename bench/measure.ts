/** A named operation to time; may be async. */
export interface Case {
  readonly name: string;
  readonly run: () => unknown;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

const timeRound = async (fn: () => unknown, seconds: number): Promise<number> => {
  let ops = 0;
  const start = now();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < 64; i++) {
      const result = fn();
      if (result instanceof Promise) await result;
    }
    ops += 64;
    elapsed = now() - start;
  }
  return ops / elapsed;
};

/**
 * Ops/s per case: warm up, then `rounds` interleaved rounds of `secondsPerRound`
 * each, taking the median so one noisy round does not decide a ratio.
 */
export const measure = async (cases: readonly Case[], rounds = 5, secondsPerRound = 0.06): Promise<Map<string, number>> => {
  for (const c of cases) await timeRound(c.run, 0.03);
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) samples.get(c.name)?.push(await timeRound(c.run, secondsPerRound));
  }
  const medians = new Map<string, number>();
  for (const [name, values] of samples) {
    const sorted = [...values].sort((a, b) => a - b);
    medians.set(name, sorted[Math.floor(sorted.length / 2)] as number);
  }
  return medians;
};

/** Writes one line to standard output. */
export const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Formats ops/s compactly. */
export const ops = (value: number | undefined): string =>
  value === undefined ? '-' : value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : `${(value / 1e3).toFixed(1)}k`;
