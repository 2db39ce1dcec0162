import { ConfigError } from '../errors.js';
import { keyForms, withoutSecrets } from '../redaction.js';
import { parseRateLimit, type RateLimit } from '../rate-limit/sliding-window.js';
import { resolveScheme } from '../schemes/index.js';
import type { SignatureScheme } from '../schemes/types.js';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE, tableName } from '../stores/tables.js';
import { describeSources, type DescribeOverrides } from './describe.js';
import {
  DEFAULT_SOURCE,
  DEFAULTS,
  type ConfigDescription,
  type HookwardenConfig,
  type SecretSource,
  type SourceConfig,
  type SourceDescription,
} from './model.js';
import { rotationFromDescription } from './rotation.js';
import { envSecrets, Problems, secretCacheSecondsOf } from './rules.js';
import { mistypedVariables } from './variables.js';

export * from './model.js';
export type { DescribeOverrides } from './describe.js';
export { configFilePath } from './sources.js';
export { describeInvalidOrigin } from './rules.js';

/** The spellings `DEBUG` accepts (the CDK app reads them too, to refuse one it would not deploy). */
export const DEBUG_TRUE = /^(true|1|yes)$/i;
export const DEBUG_FALSE = /^(false|0|no)$/i;

/** What {@link describeConfig} found. */
export interface ConfigDescriptionResult {
  /** Plain JSON, a valid config document: what the CDK app deploys and ships in each bundle. */
  readonly description: ConfigDescription;
  /** The config file's path, `HOOKWARDEN_CONFIG_JSON`, or `environment`. */
  readonly origin: string;
  /** Every problem, each naming its key or variable; empty when the configuration is valid. */
  readonly problems: readonly string[];
}

/**
 * The one parser, for those that deploy or inspect rather than serve (the CDK
 * app, the checklist, the CLI): the sources and their settings from
 * `hookwarden.config.json` (or `HOOKWARDEN_CONFIG`, or inline
 * `HOOKWARDEN_CONFIG_JSON`), else from the `WEBHOOK_*` variables as one source
 * named `default`, with every problem. Secret values are never read.
 *
 * @example const { description, problems } = describeConfig(process.env);
 */
export const describeConfig = (
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  overrides: DescribeOverrides = {},
): ConfigDescriptionResult => {
  const problems = new Problems();
  const { description, origin } = describeSources(problems, env, cwd, overrides);
  return { description, origin, problems: problems.items };
};

/** A rate limit the parser accepted, as the middleware reads it. */
const rateOf = (written: string | undefined): RateLimit | undefined => {
  const parsed = written === undefined ? undefined : parseRateLimit(written);
  return typeof parsed === 'object' ? parsed : undefined;
};

/**
 * A described source, ready to serve: its scheme built, its secrets read (each
 * checked for the scheme, a problem naming its variable), its limits parsed.
 * Nothing is validated again: the description is the parser's.
 */
const resolveSource = (problems: Problems, source: SourceDescription, env: NodeJS.ProcessEnv, cacheSeconds: number): SourceConfig => {
  let scheme: SignatureScheme | undefined;
  try {
    scheme = resolveScheme(source.scheme, source.hmac);
  } catch {
    // Already a problem of the description (config/rules.ts schemeFor).
  }
  let secret: SecretSource | undefined;
  if (source.secretArn) secret = { kind: 'secretsManager', secretId: source.secretArn, cacheSeconds };
  else if (source.secretEnv) secret = envSecrets(problems, source.secretEnv, scheme, env);
  const rateLimit = rateOf(source.rateLimit);
  const clientRateLimit = rateOf(source.clientRateLimit);
  return {
    name: source.name,
    schemeName: source.scheme,
    scheme: scheme as SignatureScheme,
    secret,
    allowedIps: source.allowedIps,
    maxAgeSeconds: source.maxAgeSeconds,
    maxBodyBytes: source.maxBodyBytes,
    retentionSeconds: source.retentionSeconds,
    ...(rateLimit ? { rateLimit } : {}),
    ...(clientRateLimit ? { clientRateLimit } : {}),
    rotation: rotationFromDescription(source.rotation, source.scheme),
  };
};

/**
 * Whether clients get generic answers (no 5xx details, no 401 reasons). The hardening guide's switches,
 * `NODE_ENV=production` and `DEBUG=false`, and fail closed where the setting is unclear: a `NODE_ENV` other
 * than `development` or `test` (`prod`, `staging`, `Production`: production), or none at all inside Lambda
 * (`AWS_LAMBDA_FUNCTION_NAME` set: a team's own function that never set it) unless `DEBUG=true` asks for
 * the details. `npm start` and the tests, with no `NODE_ENV` or a development one, keep them.
 */
export const productionMode = (env: NodeJS.ProcessEnv): boolean => {
  if (DEBUG_FALSE.test(env.DEBUG ?? '')) return true;
  const mode = env.NODE_ENV?.trim().toLowerCase() ?? '';
  if (mode === '') return (env.AWS_LAMBDA_FUNCTION_NAME ?? '') !== '' && !DEBUG_TRUE.test(env.DEBUG ?? '');
  return mode !== 'development' && mode !== 'test';
};

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * A source without a secret is a problem, listed with the others (as {@link requireSecrets} names it): for a
   * function, where there is no development fallback. @default false (`npm start` generates a development secret)
   */
  readonly requireSecrets?: boolean;
}

/** Each source without a secret, as `[where, what]`: the variable it names is unset, or it names none. */
const missingSecrets = (sources: Iterable<SourceConfig>, origin: string, description: ConfigDescription): Array<[string, string]> =>
  [...sources]
    .filter((source) => !source.secret)
    .map((source) => {
      if (source.name === DEFAULT_SOURCE && origin === 'environment') return ['WEBHOOK_SECRET', 'is not set'];
      const secretEnv = description.sources.find((described) => described.name === source.name)?.secretEnv;
      return [
        `${origin} source "${source.name}"`,
        secretEnv ? `has no secret: its secretEnv, ${secretEnv}, is not set` : 'has no secret (set secretEnv or secretArn)',
      ];
    });

/** The secrets configured in variables, in the forms a problem could quote them (the keys of `whsec_` ones too). */
const knownSecrets = (sources: Iterable<SourceConfig>): string[] => {
  const values = [...sources].flatMap((source) => (source.secret?.kind === 'env' ? source.secret.values : []));
  return keyForms(values, []) as string[];
};

/**
 * Reads and validates the whole configuration once (cold start): the one
 * parser's description ({@link describeConfig}), then the secrets and the
 * environment's runtime settings (`DEBUG`, `NODE_ENV`, table names).
 * `CORS_ORIGINS` and `TRUSTED_PROXIES` override the file.
 *
 * @throws ConfigError listing every problem, each naming the variable or key; never quoting a configured secret, nor
 * a value shaped like one (a secret pasted into another variable)
 * @example const config = loadConfig(process.env);
 */
export const loadConfig = (
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  options: LoadConfigOptions = {},
): HookwardenConfig => {
  const problems = new Problems();
  const { description, origin } = describeSources(problems, env, cwd);
  // Read by Secrets Manager sources; a config file may have them, the WEBHOOK_* variables never do.
  const cacheSeconds = origin === 'environment' ? DEFAULTS.secretCacheSeconds : secretCacheSecondsOf(problems, env);
  const sources = new Map(description.sources.map((source) => [source.name, resolveSource(problems, source, env, cacheSeconds)]));
  mistypedVariables(
    problems,
    env,
    description.sources.flatMap((source) => (source.secretEnv ? [source.secretEnv] : [])),
  );

  if (env.DEBUG !== undefined && env.DEBUG !== '' && !DEBUG_TRUE.test(env.DEBUG) && !DEBUG_FALSE.test(env.DEBUG)) {
    problems.add('DEBUG', `must be true or false (or 1/0, yes/no), got ${JSON.stringify(env.DEBUG)}`);
  }
  if (options.requireSecrets) for (const [where, what] of missingSecrets(sources.values(), origin, description)) problems.add(where, what);

  if (problems.items.length > 0)
    throw new ConfigError(problems.items.map((problem) => withoutSecrets(problem, knownSecrets(sources.values()))));
  return {
    description,
    sources,
    corsOrigins: description.corsOrigins,
    trustedProxies: description.trustedProxies,
    production: productionMode(env),
    tables: { deliveries: tableName(DELIVERIES_TABLE, env), rateLimits: tableName(RATE_LIMITS_TABLE, env) },
    origin,
    acceptedRisks: description.acceptRisks,
  };
};

/**
 * Refuses a configuration in which a source has no secret (in Lambda there is
 * no development fallback: fail closed).
 * @throws ConfigError naming every source without a secret
 */
export const requireSecrets = (config: HookwardenConfig): HookwardenConfig => {
  const missing = missingSecrets(config.sources.values(), config.origin, config.description);
  if (missing.length > 0) throw new ConfigError(missing.map(([where, what]) => `${where}: ${what}`));
  return config;
};
