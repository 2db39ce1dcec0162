import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HmacSchemeOptions, SignatureScheme } from '../schemes/types';
import { DEFAULT_SOURCE, DEFAULTS, type ConfigDocument, type SecretSource, type SourceConfig } from './model';
import { ENV_NAME, envSecrets, hmacFromEnv, limits, list, MAX_BODY_LIMIT, positiveInt, ranges, schemeFor, SOURCE_NAME, stringArray, type Problems } from './rules';

/** The config document: inline `HOOKWARDEN_CONFIG_JSON`, else the file (`HOOKWARDEN_CONFIG` or `hookwarden.config.json`), if any. */
export const readDocument = (
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

/** The sources of a config document, every problem collected. */
export const sourcesFromDocument = (
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

/** The one `default` source the `WEBHOOK_*` variables describe. */
export const sourceFromEnvironment = (problems: Problems, env: NodeJS.ProcessEnv): Map<string, SourceConfig> => {
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

