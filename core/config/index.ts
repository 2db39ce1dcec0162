import { ConfigError } from '../errors.js';
import { DEFAULT_SOURCE, type HookwardenConfig } from './model.js';
import { acceptedRisks, proxyRanges } from './risks.js';
import { list, origins, Problems, stringArray } from './rules.js';
import { ignoredVariables, readDocument, sourceFromEnvironment, sourcesFromDocument } from './sources.js';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE, tableName } from '../stores/tables.js';

export * from './model.js';
export { describeInvalidOrigin } from './rules.js';

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
  const accepted = acceptedRisks(problems, env, file?.document, file?.origin);
  if (file) ignoredVariables(problems, file.document, file.origin, env);
  const sources = file ? sourcesFromDocument(problems, file.document, file.origin, env, accepted) : sourceFromEnvironment(problems, env, accepted);

  const corsOrigins =
    env.CORS_ORIGINS !== undefined
      ? origins(problems, 'CORS_ORIGINS', list(env.CORS_ORIGINS))
      : origins(problems, `${file?.origin ?? 'config'} corsOrigins`, stringArray(problems, `${file?.origin} corsOrigins`, file?.document.corsOrigins));
  const trustedProxies =
    env.TRUSTED_PROXIES !== undefined
      ? proxyRanges(problems, 'TRUSTED_PROXIES', list(env.TRUSTED_PROXIES), accepted)
      : proxyRanges(problems, `${file?.origin} trustedProxies`, stringArray(problems, `${file?.origin} trustedProxies`, file?.document.trustedProxies), accepted);

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
    acceptedRisks: [...accepted],
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
