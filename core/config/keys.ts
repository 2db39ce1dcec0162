import type { Problems } from './rules.js';

/** Every key of the config document, by level; anything else is a problem naming the nearest of these. */
export const KNOWN_KEYS = {
  top: ['sources', 'corsOrigins', 'trustedProxies', 'acceptRisks'],
  // `generateSecret` and `secretKmsKeyArn` are read by the CDK app only; the functions accept and ignore them.
  source: [
    'name',
    'scheme',
    'secretEnv',
    'secretArn',
    'secretKmsKeyArn',
    'generateSecret',
    'allowedIps',
    'maxAgeSeconds',
    'maxBodyBytes',
    'retentionSeconds',
    'rateLimit',
    'clientRateLimit',
    'hmac',
    'rotation',
  ],
  hmac: ['header', 'prefix', 'encoding', 'timestampHeader', 'idHeader', 'template'],
} as const;

/** Edit distance, case-insensitive: `allowedIP` is one edit from `allowedIps`. */
export const editDistance = (a: string, b: string): number => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[y.length] as number;
};

/** The known name closest to `word` (the first of equals, in the order given). */
export const nearest = (word: string, known: readonly string[]): string =>
  known.reduce((best, candidate) => (editDistance(word, candidate) < editDistance(word, best) ? candidate : best), known[0] as string);

/** One problem per key of `object` that is not in `known`, each naming the nearest known key. */
export const unknownKeys = (problems: Problems, where: (key: string) => string, object: object, known: readonly string[]): void => {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) problems.add(where(key), `unknown key; the nearest known key is "${nearest(key, known)}"`);
  }
};

/** Whether a JSON value is a plain object (not an array, not null). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
