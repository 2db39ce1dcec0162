import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './errors';
import { describeInvalidRange } from './net';
import { parseRateLimit, type RateLimit } from './rate-limit/sliding-window';
import { PRESET_NAMES, resolveScheme } from './schemes';
import type { SignatureScheme, HmacSchemeOptions } from './schemes/types';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE, tableName } from './stores/tables';

/** Where a source's secrets come from. */
export type SecretSource =
  /** Locally (and in tests): comma-separated values of an environment variable, all valid at once. */
  | { readonly kind: 'env'; readonly variable: string; readonly values: readonly string[] }
  /** In AWS: a Secrets Manager secret holding `{"keys":[{"secret":"...","notAfter":...}]}`, read through a cache. */
  | { readonly kind: 'secretsManager'; readonly secretId: string; readonly cacheSeconds: number };

/** One webhook sender, served at `/webhooks/{name}`. */
export interface SourceConfig {
  readonly name: string;
  readonly schemeName: string;
  readonly scheme: SignatureScheme;
  /** `undefined` when nothing is configured: the local server generates a development secret; Lambda refuses to start. */
  readonly secret: SecretSource | undefined;
  /** IPs and CIDRs allowed to deliver; empty allows any address. */
  readonly allowedIps: readonly string[];
  /** @default 300 */
  readonly maxAgeSeconds: number;
  /** @default 1048576 (1 MiB) */
  readonly maxBodyBytes: number;
  /** How long a stored delivery (and so its replay guard) is kept. @default 604800 (7 days) */
  readonly retentionSeconds: number;
  /** Authenticated deliveries admitted per window for the whole source. @default none (no app-level limit) */
  readonly rateLimit?: RateLimit;
  /** Authenticated deliveries admitted per window per client (IPv4 address or IPv6 /64). @default none */
  readonly clientRateLimit?: RateLimit;
}

/** Everything Hookwarden reads from its environment and config file, validated. */
export interface HookwardenConfig {
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Exact origins allowed by CORS; empty allows none. */
  readonly corsOrigins: readonly string[];
  /** Peers whose `X-Forwarded-For` is believed; empty trusts none. */
  readonly trustedProxies: readonly string[];
  /** `NODE_ENV=production` or `DEBUG=false`: 5xx messages are generic. */
  readonly production: boolean;
  readonly tables: { readonly deliveries: string; readonly rateLimits: string };
  /** Where the sources came from, for the banner and errors. */
  readonly origin: 'environment' | string;
}

export const DEFAULT_SOURCE = 'default';
export const DEFAULTS = {
  scheme: 'standard-webhooks',
  maxAgeSeconds: 300,
  maxBodyBytes: 1024 * 1024,
  retentionSeconds: 7 * 24 * 3600,
  secretCacheSeconds: 300,
  configFile: 'hookwarden.config.json',
} as const;

/** API Gateway's own payload limit; larger limits could never be reached. */
const MAX_BODY_LIMIT = 10 * 1024 * 1024;
const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The JSON document of `hookwarden.config.json` (also accepted inline in `HOOKWARDEN_CONFIG_JSON`). */
export interface ConfigDocument {
  sources?: Array<{
    name?: unknown;
    scheme?: unknown;
    secretEnv?: unknown;
    secretArn?: unknown;
    allowedIps?: unknown;
    maxAgeSeconds?: unknown;
    maxBodyBytes?: unknown;
    retentionSeconds?: unknown;
    rateLimit?: unknown;
    clientRateLimit?: unknown;
    hmac?: unknown;
  }>;
  corsOrigins?: unknown;
  trustedProxies?: unknown;
}

const list = (raw: string | undefined): string[] =>
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

class Problems {
  readonly items: string[] = [];
  add(where: string, what: string): void {
    this.items.push(`${where}: ${what}`);
  }
}

const positiveInt = (
  problems: Problems,
  where: string,
  raw: unknown,
  fallback: number,
  max: number,
): number => {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    problems.add(where, `must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value;
};

const ranges = (problems: Problems, where: string, entries: readonly string[]): readonly string[] => {
  for (const entry of entries) {
    const problem = describeInvalidRange(entry);
    if (problem) problems.add(where, problem);
  }
  return entries;
};

const stringArray = (problems: Problems, where: string, raw: unknown): string[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) {
    problems.add(where, 'must be an array of strings');
    return [];
  }
  return raw.map((v: string) => v.trim());
};

const origins = (problems: Problems, where: string, entries: readonly string[]): readonly string[] => {
  for (const entry of entries) {
    const problem = describeInvalidOrigin(entry);
    if (problem) problems.add(where, problem);
  }
  return entries;
};

const rate = (problems: Problems, where: string, raw: unknown): { rateLimit?: RateLimit } | Record<string, never> => {
  if (raw === undefined || raw === '') return {};
  const parsed = typeof raw === 'string' ? parseRateLimit(raw) : `must be a string like "600/60s", got ${JSON.stringify(raw)}`;
  if (typeof parsed === 'string') {
    problems.add(where, parsed);
    return {};
  }
  return { rateLimit: parsed };
};

/** Both limits of a source, as optional properties. */
const limits = (problems: Problems, sourceWhere: [string, unknown], clientWhere: [string, unknown]) => {
  const source = rate(problems, sourceWhere[0], sourceWhere[1]);
  const client = rate(problems, clientWhere[0], clientWhere[1]);
  return {
    ...('rateLimit' in source ? { rateLimit: source.rateLimit } : {}),
    ...('rateLimit' in client ? { clientRateLimit: client.rateLimit } : {}),
  };
};

const schemeFor = (
  problems: Problems,
  where: string,
  name: unknown,
  hmac: HmacSchemeOptions | undefined,
): SignatureScheme | undefined => {
  if (typeof name !== 'string' || !PRESET_NAMES.includes(name)) {
    problems.add(where, `unknown scheme ${JSON.stringify(name)} (one of ${PRESET_NAMES.join(', ')})`);
    return undefined;
  }
  try {
    return resolveScheme(name, hmac);
  } catch (error) {
    problems.add(where, (error as Error).message);
    return undefined;
  }
};

const envSecrets = (
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
        scheme.decodeSecret(value);
      } catch (error) {
        problems.add(variable, `secret #${index + 1} ${(error as Error).message}`);
      }
    });
  }
  return { kind: 'env', variable, values };
};

const hmacFromEnv = (env: NodeJS.ProcessEnv): HmacSchemeOptions | undefined => {
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

const readDocument = (
  problems: Problems,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { document: ConfigDocument; origin: string } | undefined => {
  let text: string;
  let origin: string;
  if (env.HOOKWARDEN_CONFIG_JSON) {
    text = env.HOOKWARDEN_CONFIG_JSON;
    origin = 'HOOKWARDEN_CONFIG_JSON';
  } else {
    const path = resolve(cwd, env.HOOKWARDEN_CONFIG || DEFAULTS.configFile);
    if (!existsSync(path)) {
      if (env.HOOKWARDEN_CONFIG) problems.add('HOOKWARDEN_CONFIG', `file ${path} does not exist`);
      return undefined;
    }
    origin = path;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      problems.add(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  try {
    const document: unknown = JSON.parse(text);
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      problems.add(origin, 'must be a JSON object');
      return undefined;
    }
    return { document: document as ConfigDocument, origin };
  } catch (error) {
    problems.add(origin, `is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
};

const sourcesFromDocument = (
  problems: Problems,
  document: ConfigDocument,
  origin: string,
  env: NodeJS.ProcessEnv,
): Map<string, SourceConfig> => {
  const sources = new Map<string, SourceConfig>();
  if (!Array.isArray(document.sources) || document.sources.length === 0) {
    problems.add(`${origin} sources`, 'must be a non-empty array');
    return sources;
  }
  const cacheSeconds = positiveInt(problems, 'WEBHOOK_SECRET_CACHE_SECONDS', env.WEBHOOK_SECRET_CACHE_SECONDS, DEFAULTS.secretCacheSeconds, 86_400);
  document.sources.forEach((raw, index) => {
    const where = `${origin} sources[${index}]`;
    if (typeof raw !== 'object' || raw === null) {
      problems.add(where, 'must be an object');
      return;
    }
    const name = raw.name;
    if (typeof name !== 'string' || !SOURCE_NAME.test(name)) {
      problems.add(`${where}.name`, `must be lower-case letters, digits, "-" or "_" (1 to 63), got ${JSON.stringify(name)}`);
      return;
    }
    if (sources.has(name)) problems.add(`${where}.name`, `"${name}" is listed twice`);
    const hmac = raw.hmac === undefined ? undefined : (raw.hmac as HmacSchemeOptions);
    const scheme = schemeFor(problems, `${where}.scheme`, raw.scheme ?? DEFAULTS.scheme, hmac);
    let secret: SecretSource | undefined;
    if (raw.secretArn !== undefined) {
      if (typeof raw.secretArn !== 'string' || raw.secretArn.length === 0) problems.add(`${where}.secretArn`, 'must be a secret ARN or name');
      else secret = { kind: 'secretsManager', secretId: raw.secretArn, cacheSeconds };
    } else if (raw.secretEnv !== undefined) {
      if (typeof raw.secretEnv !== 'string' || !ENV_NAME.test(raw.secretEnv)) problems.add(`${where}.secretEnv`, 'must be an environment variable name');
      else secret = envSecrets(problems, raw.secretEnv, scheme, env);
    }
    sources.set(name, {
      name,
      schemeName: scheme?.name ?? String(raw.scheme),
      scheme: scheme as SignatureScheme,
      secret,
      allowedIps: ranges(problems, `${where}.allowedIps`, stringArray(problems, `${where}.allowedIps`, raw.allowedIps)),
      maxAgeSeconds: positiveInt(problems, `${where}.maxAgeSeconds`, raw.maxAgeSeconds, DEFAULTS.maxAgeSeconds, 86_400),
      maxBodyBytes: positiveInt(problems, `${where}.maxBodyBytes`, raw.maxBodyBytes, DEFAULTS.maxBodyBytes, MAX_BODY_LIMIT),
      retentionSeconds: positiveInt(problems, `${where}.retentionSeconds`, raw.retentionSeconds, DEFAULTS.retentionSeconds, 366 * 86_400),
      ...limits(problems, [`${where}.rateLimit`, raw.rateLimit], [`${where}.clientRateLimit`, raw.clientRateLimit]),
    });
  });
  return sources;
};

const sourceFromEnvironment = (problems: Problems, env: NodeJS.ProcessEnv): Map<string, SourceConfig> => {
  const scheme = schemeFor(problems, 'WEBHOOK_SCHEME', env.WEBHOOK_SCHEME || DEFAULTS.scheme, hmacFromEnv(env));
  const source: SourceConfig = {
    name: DEFAULT_SOURCE,
    schemeName: scheme?.name ?? String(env.WEBHOOK_SCHEME),
    scheme: scheme as SignatureScheme,
    secret: envSecrets(problems, 'WEBHOOK_SECRET', scheme, env),
    allowedIps: ranges(problems, 'WEBHOOK_ALLOWED_IPS', list(env.WEBHOOK_ALLOWED_IPS)),
    maxAgeSeconds: positiveInt(problems, 'WEBHOOK_MAX_AGE', env.WEBHOOK_MAX_AGE, DEFAULTS.maxAgeSeconds, 86_400),
    maxBodyBytes: positiveInt(problems, 'WEBHOOK_MAX_BODY_BYTES', env.WEBHOOK_MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, MAX_BODY_LIMIT),
    retentionSeconds: positiveInt(problems, 'WEBHOOK_RETENTION_SECONDS', env.WEBHOOK_RETENTION_SECONDS, DEFAULTS.retentionSeconds, 366 * 86_400),
    ...limits(problems, ['WEBHOOK_RATE_LIMIT', env.WEBHOOK_RATE_LIMIT], ['WEBHOOK_CLIENT_RATE_LIMIT', env.WEBHOOK_CLIENT_RATE_LIMIT]),
  };
  return new Map([[DEFAULT_SOURCE, source]]);
};

const BOOLEAN = /^(true|false|1|0|yes|no)$/i;

/**
 * Reads and validates the whole configuration once (cold start).
 * Sources come from `hookwarden.config.json` (or `HOOKWARDEN_CONFIG`, or inline
 * `HOOKWARDEN_CONFIG_JSON`) when present, else from the `WEBHOOK_*` variables as
 * one source named `default`. `CORS_ORIGINS` and `TRUSTED_PROXIES` override the file.
 *
 * @throws ConfigError listing every problem, each naming the variable or key
 * @example const config = loadConfig(process.env);
 */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): HookwardenConfig => {
  const problems = new Problems();
  const file = readDocument(problems, env, cwd);
  const sources = file ? sourcesFromDocument(problems, file.document, file.origin, env) : sourceFromEnvironment(problems, env);

  const corsOrigins =
    env.CORS_ORIGINS !== undefined
      ? origins(problems, 'CORS_ORIGINS', list(env.CORS_ORIGINS))
      : origins(problems, `${file?.origin ?? 'config'} corsOrigins`, stringArray(problems, `${file?.origin} corsOrigins`, file?.document.corsOrigins));
  const trustedProxies =
    env.TRUSTED_PROXIES !== undefined
      ? ranges(problems, 'TRUSTED_PROXIES', list(env.TRUSTED_PROXIES))
      : ranges(problems, `${file?.origin} trustedProxies`, stringArray(problems, `${file?.origin} trustedProxies`, file?.document.trustedProxies));

  if (env.DEBUG !== undefined && env.DEBUG !== '' && !BOOLEAN.test(env.DEBUG)) {
    problems.add('DEBUG', `must be true or false, got ${JSON.stringify(env.DEBUG)}`);
  }
  const debugOff = /^(false|0|no)$/i.test(env.DEBUG ?? '');

  if (problems.items.length > 0) throw new ConfigError(problems.items);
  return {
    sources,
    corsOrigins,
    trustedProxies,
    production: env.NODE_ENV === 'production' || debugOff,
    tables: { deliveries: tableName(DELIVERIES_TABLE, env), rateLimits: tableName(RATE_LIMITS_TABLE, env) },
    origin: file?.origin ?? 'environment',
  };
};

/**
 * Refuses a configuration in which a source has no secret (in Lambda there is
 * no development fallback: fail closed).
 * @throws ConfigError naming every source without a secret
 */
export const requireSecrets = (config: HookwardenConfig): HookwardenConfig => {
  const missing = [...config.sources.values()].filter((source) => !source.secret);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((source) =>
        source.name === DEFAULT_SOURCE && config.origin === 'environment'
          ? 'WEBHOOK_SECRET: is not set'
          : `${config.origin} source "${source.name}": has no secret (set secretEnv or secretArn)`,
      ),
    );
  }
  return config;
};
