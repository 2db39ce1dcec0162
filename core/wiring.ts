import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientSettings } from './aws-client-settings.js';
import { loadConfig, requireSecrets, type HookwardenConfig } from './config/index.js';
import type { PipelineDependencies } from './pipeline.js';
import type { SecretProviderFactory } from './secrets/index.js';
import { secretsManagerProviders } from './secrets/secrets-manager.js';
import { ControlsCache } from './stores/controls-cache.js';
import { DynamoDbControlsStore } from './stores/controls-store.js';
import type { DeliveryStore } from './stores/delivery-store.js';
import { createDynamoDbClient } from './stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from './stores/dynamodb-delivery-store.js';
import { DynamoDbRateLimiter } from './stores/dynamodb-rate-limiter.js';
import type { RateLimiter } from './stores/rate-limit-store.js';
import { createTelemetry, type Telemetry } from './telemetry.js';
import { deadlineBound } from './deadline.js';
import { ConfigError } from './errors.js';
import { kindOf, Problems, wholeNumberProblem } from './config/rules.js';

/**
 * The rate limiter and the containment cache on the rate-limits table, as the
 * Lambda handler and the local server both wire them.
 */
export const rateLimitsDependencies = (
  client: DynamoDBClient,
  config: HookwardenConfig,
  telemetry: Telemetry,
  options: { readonly refreshMs?: number } = {},
) => ({
  rateLimiter: new DynamoDbRateLimiter({ client, tableName: config.tables.rateLimits }),
  controls: new ControlsCache({
    store: new DynamoDbControlsStore({ client, tableName: config.tables.rateLimits }),
    ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    onRefreshError: (error) => telemetry.logger.error('could not refresh the blocklist; keeping the last one', { error }),
  }),
});

/**
 * Options of {@link wireDependencies}: anything given is used as is, anything
 * absent is built as Hookwarden's own function builds it. Leaving the rate
 * limits or the blocklist and source switch out takes an explicit `false`.
 */
export interface WiringOptions {
  /** Where the configuration and the table names come from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default loadConfig(env) with `requireSecrets`: every source must have a secret (fail closed) */
  readonly config?: HookwardenConfig;
  /** The DynamoDB client the stores share. @default createDynamoDbClient() (honours AWS_ENDPOINT_URL_DYNAMODB) */
  readonly dynamoDb?: DynamoDBClient;
  /** @default the DynamoDB deliveries table of `config` */
  readonly store?: DeliveryStore;
  /** @default createTelemetry() */
  readonly telemetry?: Telemetry;
  /** @default Secrets Manager for `secretArn` sources, the environment for `secretEnv` ones */
  readonly secretProviders?: SecretProviderFactory;
  /** Sliding-window limits; `false` drops them (sources' `rateLimit` are then not enforced). @default the DynamoDB rate-limits table */
  readonly rateLimiter?: RateLimiter | false;
  /** Blocklist and source switch; `false` drops them (`hookwarden block`/`disable` then have no effect). @default cached from the rate-limits table */
  readonly controls?: ControlsCache | false;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** See {@link PipelineDependencies.requestBudgetMs}; a whole number from 1 to 900,000. @default WEBHOOK_DEADLINE.budgetMs (8000) */
  readonly requestBudgetMs?: number;
}

/** The methods the pipeline calls on each dependency that can be injected: what an object given for it must have. */
const METHODS = {
  dynamoDb: ['send'],
  store: ['claim', 'complete', 'release', 'get'],
  rateLimiter: ['hit'],
  controls: ['current'],
} as const;

/** A whole number of milliseconds Lambda can run for: 1 to 900,000 (15 minutes). */
const MAX_BUDGET_MS = 900_000;

/** Epoch milliseconds from the year 2001 to 2286: a clock giving seconds, or a monotonic clock's milliseconds, is below. */
const EPOCH_MS = { min: 1e12, max: 1e13 } as const;

/** What is wrong with a clock that should give epoch milliseconds (`Date.now`), read once; `undefined` when nothing is. */
const clockProblem = (now: () => unknown): string | undefined => {
  let value: unknown;
  try {
    value = now();
  } catch (error) {
    return `threw when read (${error instanceof Error ? error.name : kindOf(error)}): it must return epoch milliseconds, as Date.now does`;
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= EPOCH_MS.min && value < EPOCH_MS.max) return undefined;
  const shown = typeof value === 'number' ? String(value) : kindOf(value);
  return `must return epoch milliseconds, as Date.now does, got ${shown}`;
};

/**
 * The problems of options given from JavaScript without types (or cast), each naming its option: checked at cold
 * start rather than found per request. `controls: null` dropped the blocklist and source switch as `false` does, with
 * no word; `requestBudgetMs: NaN` left the store calls without a deadline; an object missing a method was a 500 on
 * every delivery.
 */
export const wiringProblems = (problems: Problems, options: unknown): WiringOptions => {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    problems.add('options', `must be an object of options, got ${kindOf(options)}`);
    return {};
  }
  const given = options as Record<string, unknown>;
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
  for (const [name, methods] of Object.entries(METHODS)) {
    const value = given[name];
    if (value === undefined || (value === false && (name === 'rateLimiter' || name === 'controls'))) continue;
    const missing = isObject(value) ? methods.filter((method) => typeof value[method] !== 'function') : methods;
    if (missing.length === 0) continue;
    const dropped = name === 'rateLimiter' || name === 'controls' ? ' (false to leave it out)' : '';
    problems.add(`options.${name}`, `must be an object with ${missing.join(', ')}()${dropped}, got ${kindOf(value)}`);
  }
  for (const name of ['secretProviders', 'now'] as const)
    if (given[name] !== undefined && typeof given[name] !== 'function')
      problems.add(`options.${name}`, `must be a function, got ${kindOf(given[name])}`);
  // Read once at cold start: a clock that gives no epoch milliseconds (`() => Date.now`, seconds, a Date's text) made
  // every freshness comparison false, so every timestamp passed (core/schemes/timestamp.ts now refuses them too).
  if (typeof given.now === 'function') {
    const problem = clockProblem(given.now as () => unknown);
    if (problem) problems.add('options.now', problem);
  }
  if (given.env !== undefined && !isObject(given.env)) problems.add('options.env', `must be an object, got ${kindOf(given.env)}`);
  if (given.config !== undefined && !(isObject(given.config) && given.config.sources instanceof Map && isObject(given.config.tables)))
    problems.add('options.config', `must be what loadConfig returns, got ${kindOf(given.config)}`);
  const telemetry = given.telemetry;
  if (telemetry !== undefined && !(isObject(telemetry) && isObject(telemetry.logger) && isObject(telemetry.metrics)))
    problems.add('options.telemetry', `must be what createTelemetry returns, got ${kindOf(telemetry)}`);
  const budget = wholeNumberProblem(given.requestBudgetMs, 1, MAX_BUDGET_MS, 'milliseconds');
  if (budget) problems.add('options.requestBudgetMs', budget);
  return given as WiringOptions;
};

/**
 * Every dependency of the webhook pipeline, built from the environment and the
 * configuration at cold start: the one place that wires the AWS clients, used by
 * Hookwarden's webhook function and by `withHookwarden`.
 *
 * @throws ConfigError when the configuration is invalid, a source has no secret or an option is not what it must be
 * @example const handler = createWebhookHandler(wireDependencies());
 */
export const wireDependencies = (given: WiringOptions = {}): PipelineDependencies => {
  const problems = new Problems();
  const options = wiringProblems(problems, given);
  const envUsable = options.env === undefined || (typeof options.env === 'object' && options.env !== null);
  // Every problem in one error: a missing secret is listed with the others, not found a deploy later; so is a bad option.
  // A configuration given is held to the same rule: every source without a secret in one error, not the first alone.
  if (problems.items.length === 0 && options.config) problems.collect(() => requireSecrets(options.config as HookwardenConfig));
  const loaded =
    options.config ??
    (envUsable
      ? problems.collect(() => requireSecrets(loadConfig(options.env ?? process.env, process.cwd(), { requireSecrets: true })))
      : undefined);
  if (problems.items.length > 0 || !loaded) throw new ConfigError(problems.items);
  const config = loaded;
  const telemetry = options.telemetry ?? createTelemetry();
  // An injected client's calls are aborted at the request's deadline too.
  let client = options.dynamoDb ? deadlineBound(options.dynamoDb) : undefined;
  // Built only when some store needs it, so fully injected dependencies open no client.
  const dynamoDb = (): DynamoDBClient => (client ??= createDynamoDbClient());
  const limits =
    options.rateLimiter === undefined || options.controls === undefined ? rateLimitsDependencies(dynamoDb(), config, telemetry) : undefined;
  const rateLimiter = options.rateLimiter ?? limits?.rateLimiter;
  const controls = options.controls ?? limits?.controls;
  return {
    config,
    telemetry,
    store: options.store ?? new DynamoDbDeliveryStore({ client: dynamoDb(), tableName: config.tables.deliveries }),
    // Made on the first Secrets Manager read, if any: environment secrets never load it. Its reads are shared by
    // concurrent requests, so not bound to any one's deadline (each request stops waiting at its own): its attempts
    // end and are retried like the store's.
    secretProviders:
      options.secretProviders ??
      secretsManagerProviders(
        async () => new (await import('./secrets/secrets-manager-client.js')).SecretsManagerClient(awsClientSettings()),
      ),
    // An explicit `false` is passed on: the pipeline then knows the limits are off on purpose.
    ...(rateLimiter === undefined ? {} : { rateLimiter }),
    ...(controls ? { controls } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.requestBudgetMs === undefined ? {} : { requestBudgetMs: options.requestBudgetMs }),
  };
};
