import { ConfigError } from '../errors.js';
import { describeHostBits, describeInvalidRange } from '../net.js';
import { parseRateLimit, type RateLimit } from '../rate-limit/sliding-window.js';
import { PRESET_NAMES, resolveScheme } from '../schemes/index.js';
import { decodeKey } from '../secrets/keys.js';
import { UNSIGNED_TIMESTAMP } from '../schemes/hmac.js';
import type { HmacSchemeOptions, SignatureScheme } from '../schemes/types.js';
import { DEFAULTS, type SecretSource } from './model.js';

/** API Gateway's own payload limit; larger limits could never be reached. */
export const MAX_BODY_LIMIT = 10 * 1024 * 1024;
/** A source name: it is a URL path segment and part of metric dimensions and keys. */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** An environment variable name (for `secretEnv`). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits a comma-separated variable, dropping blanks. */
export const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * Validates a CORS origin: `scheme://host[:port]`, nothing else, never `*`.
 * Returns the problem, or `undefined`.
 */
export const describeInvalidOrigin = (origin: string): string | undefined => {
  if (origin.includes('*')) return `"${origin}" contains a wildcard; list exact origins`;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `"${origin}" is not an origin like https://app.example.com`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${origin}" must use http or https`;
  if (url.origin !== origin) return `"${origin}" is not an exact origin (expected "${url.origin}": no path, no trailing slash)`;
  return undefined;
};

/** Collects every configuration problem, each naming its variable or key. */
export class Problems {
  readonly items: string[] = [];
  add(where: string, what: string): void {
    this.items.push(`${where}: ${what}`);
  }

  /**
   * What `read` returns, or `undefined` with its problems added here when it throws a {@link ConfigError}: several
   * readers (the configuration, the reader's settings, the local server's own variables) then fail in one error that
   * lists every problem. Any other error is thrown as it is.
   */
  collect<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.items.push(...error.problems);
      return undefined;
    }
  }
}

/** What a value is, for a problem: a number or boolean as it is, anything else by its kind (a string may be a secret). */
export const kindOf = (value: unknown): string => {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
};

/**
 * The problem of an option that must be a whole number from `min` to `max` (`unit`: "of seconds" reads "a whole number
 * of seconds"), or `undefined` when it is one or was left out. From JavaScript without types an option may be `NaN`,
 * which compares false with every bound: a limit of `NaN` was no limit.
 * @example wholeNumberProblem(Number.NaN, 1, 60, 'seconds') // 'must be a whole number of seconds from 1 to 60, got NaN'
 */
export const wholeNumberProblem = (value: unknown, min: number, max: number, unit?: string): string | undefined =>
  value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)
    ? undefined
    : `must be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}, got ${kindOf(value)}`;

/** A whole number in 1..max from a variable or key; a problem otherwise (the fallback is returned). */
export const positiveInt = (problems: Problems, where: string, raw: unknown, fallback: number, max: number): number => {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    problems.add(where, `must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value;
};

/**
 * `WEBHOOK_SECRET_CACHE_SECONDS`, 1 to 86,400 (default 300), read alike by the functions, `npm start`, the rotation
 * function and `hookwarden rotate`: a rotation that read it otherwise than the functions could switch a provider before
 * they had the key.
 */
export const secretCacheSecondsOf = (problems: Problems, env: NodeJS.ProcessEnv): number =>
  positiveInt(problems, 'WEBHOOK_SECRET_CACHE_SECONDS', env.WEBHOOK_SECRET_CACHE_SECONDS, DEFAULTS.secretCacheSeconds, 86_400);

/** Checks IP/CIDR entries (an allowlist, trusted proxies), one problem per bad entry; host bits set are one. */
export const ranges = (problems: Problems, where: string, entries: readonly string[]): readonly string[] => {
  for (const entry of entries) {
    const problem = describeInvalidRange(entry) ?? describeHostBits(entry);
    if (problem) problems.add(where, problem);
  }
  return entries;
};

/** A JSON array of strings from the config file, trimmed. */
export const stringArray = (problems: Problems, where: string, raw: unknown): string[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) {
    problems.add(where, 'must be an array of strings');
    return [];
  }
  return raw.map((v: string) => v.trim());
};

/** Checks CORS origins, one problem per bad entry. */
export const origins = (problems: Problems, where: string, entries: readonly string[]): readonly string[] => {
  for (const entry of entries) {
    const problem = describeInvalidOrigin(entry);
    if (problem) problems.add(where, problem);
  }
  return entries;
};

/** A rate limit like `600/60s` from a variable or key. */
export const rate = (problems: Problems, where: string, raw: unknown): { rateLimit?: RateLimit } | Record<string, never> => {
  if (raw === undefined || raw === '') return {};
  const parsed = typeof raw === 'string' ? parseRateLimit(raw) : `must be a string like "600/60s", got ${JSON.stringify(raw)}`;
  if (typeof parsed === 'string') {
    problems.add(where, parsed);
    return {};
  }
  return { rateLimit: parsed };
};

/** Both limits of a source, as optional properties. */
export const limits = (problems: Problems, sourceWhere: [string, unknown], clientWhere: [string, unknown]) => {
  const source = rate(problems, sourceWhere[0], sourceWhere[1]);
  const client = rate(problems, clientWhere[0], clientWhere[1]);
  return {
    ...('rateLimit' in source ? { rateLimit: source.rateLimit } : {}),
    ...('rateLimit' in client ? { clientRateLimit: client.rateLimit } : {}),
  };
};

/**
 * The scheme for a configured name (and hmac options), or a problem. `hmac` is
 * `false` when the options were refused already (nothing more to say about them).
 */
export const schemeFor = (
  problems: Problems,
  where: string,
  name: unknown,
  hmac: HmacSchemeOptions | undefined | false,
): SignatureScheme | undefined => {
  if (typeof name !== 'string' || !PRESET_NAMES.includes(name)) {
    problems.add(where, `unknown scheme ${JSON.stringify(name)} (one of ${PRESET_NAMES.join(', ')})`);
    return undefined;
  }
  if (hmac === false) return undefined;
  try {
    return resolveScheme(name, hmac);
  } catch (error) {
    // The configuration names the unsigned timestamp header in its own terms (config/hmac.ts).
    const listed = (error as { problems?: unknown }).problems;
    const rest = Array.isArray(listed) ? listed.filter((p) => p !== UNSIGNED_TIMESTAMP) : undefined;
    if (rest === undefined) problems.add(where, (error as Error).message);
    else if (rest.length > 0) problems.add(where, `scheme "hmac": ${rest.join('; ')}`);
    return undefined;
  }
};

/** Whether a source's scheme signs a timestamp, so that freshness (`maxAgeSeconds`) bounds when a copy verifies. */
export const signsTimestamp = (schemeName: unknown, hmac: HmacSchemeOptions | undefined | false): boolean =>
  schemeName === 'standard-webhooks' ||
  schemeName === 'stripe' ||
  schemeName === 'slack' ||
  (schemeName === 'hmac' && !!hmac && !!hmac.timestampHeader);

/**
 * A signed timestamp is fresh from `maxAge` before now to `maxAge` after, so a
 * copy of a delivery verifies for up to twice `maxAge` after the first one
 * arrives. Its record (the replay guard) must outlive that, or the copy is
 * stored and processed again.
 */
export const retentionCoversFreshness = (
  problems: Problems,
  [retentionWhere, retention]: readonly [string, number],
  [maxAgeWhere, maxAge]: readonly [string, number],
): void => {
  if (retention < 2 * maxAge)
    problems.add(
      retentionWhere,
      `must be at least twice ${maxAgeWhere} (${2 * maxAge} s): a copy of a delivery stays fresh that long, and one arriving after its record expired would be stored and processed again; got ${retention}`,
    );
};

/** A whole number from the config file: a JSON number, never a string like "300". */
export const jsonInt = (problems: Problems, where: string, raw: unknown, fallback: number, max: number): number => {
  if (raw !== undefined && typeof raw !== 'number') {
    problems.add(where, `must be a number from 1 to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return positiveInt(problems, where, raw, fallback, max);
};

/** A source's secrets from an environment variable, each decoded by the scheme and long enough (never echoed). */
export const envSecrets = (
  problems: Problems,
  variable: string,
  scheme: SignatureScheme | undefined,
  env: NodeJS.ProcessEnv,
): SecretSource | undefined => {
  const values = list(env[variable]);
  if (values.length === 0) return undefined;
  if (scheme) {
    values.forEach((value, index) => {
      try {
        decodeKey(scheme, value);
      } catch (error) {
        // The position, never the value: the variable may hold several keys.
        problems.add(variable, `key #${index + 1} of ${values.length} ${(error as Error).message}`);
      }
    });
  }
  return { kind: 'env', variable, values };
};

/** Generic-hmac options from `WEBHOOK_HMAC_*`, when `WEBHOOK_HMAC_HEADER` is set. */
export const hmacFromEnv = (env: NodeJS.ProcessEnv): HmacSchemeOptions | undefined => {
  if (!env.WEBHOOK_HMAC_HEADER) return undefined;
  return {
    header: env.WEBHOOK_HMAC_HEADER,
    prefix: env.WEBHOOK_HMAC_PREFIX,
    encoding: env.WEBHOOK_HMAC_ENCODING as HmacSchemeOptions['encoding'],
    timestampHeader: env.WEBHOOK_HMAC_TIMESTAMP_HEADER,
    idHeader: env.WEBHOOK_HMAC_ID_HEADER,
    template: env.WEBHOOK_HMAC_TEMPLATE,
  };
};
