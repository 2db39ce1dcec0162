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
  /** See {@link PipelineDependencies.requestBudgetMs}. @default WEBHOOK_DEADLINE.budgetMs (8000) */
  readonly requestBudgetMs?: number;
}

/**
 * Every dependency of the webhook pipeline, built from the environment and the
 * configuration at cold start: the one place that wires the AWS clients, used by
 * Hookwarden's webhook function and by `withHookwarden`.
 *
 * @throws ConfigError when the configuration is invalid or a source has no secret
 * @example const handler = createWebhookHandler(wireDependencies());
 */
export const wireDependencies = (options: WiringOptions = {}): PipelineDependencies => {
  // Every problem in one error: a missing secret is listed with the others, not found a deploy later.
  const config = options.config ?? requireSecrets(loadConfig(options.env ?? process.env, process.cwd(), { requireSecrets: true }));
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
