import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig, type HookwardenConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { Problems } from '../config/rules.js';
import { DynamoDbDeliveryFeed } from '../stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../stores/dynamodb-delivery-store.js';
import { DynamoDbRateLimiter } from '../stores/dynamodb-rate-limiter.js';
import { TOKENS_TABLE, tableName } from '../stores/tables.js';
import { TokenCache } from '../stores/token-cache.js';
import { DynamoDbTokenStore } from '../stores/token-store.js';
import type { Telemetry } from '../telemetry.js';
import { deadlineBound } from '../deadline.js';
import type { DeliveryNotifier, ReaderDependencies } from './pipeline.js';
import { ReadBudget } from './read-budget.js';
import { readerSettings, type ReaderSettings } from './settings.js';

/** Options of {@link readerDependencies}. */
export interface ReaderWiringOptions {
  readonly config: HookwardenConfig;
  readonly telemetry: Telemetry;
  readonly client: DynamoDBClient;
  /** Table names and settings come from here. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default readerSettings(env) */
  readonly settings?: ReaderSettings;
  readonly notifier?: DeliveryNotifier;
  /** Token lookups are reused this long. @default 15000 */
  readonly tokenCacheMs?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * The configuration and the deliveries API's settings, read together at a reader function's cold start: every problem
 * of both in one error. Read one after the other, a bad `HOOKWARDEN_READ_BUDGET` beside a bad `WEBHOOK_MAX_AGE` was
 * named only once the other was fixed, a failed deploy later.
 * @throws ConfigError naming every problem
 */
export const readerConfiguration = (
  env: NodeJS.ProcessEnv = process.env,
): { readonly config: HookwardenConfig; readonly settings: ReaderSettings } => {
  const problems = new Problems();
  const config = problems.collect(() => loadConfig(env));
  const settings = problems.collect(() => readerSettings(env));
  if (!config || !settings) throw new ConfigError(problems.items);
  return { config, settings };
};

/**
 * Everything the deliveries API needs on one DynamoDB client: the deliveries
 * table (get) and its byTime index (list, stream), the tokens table behind a
 * 15 s cache, and the per-token counters (requests, streams, the read budget) on the rate-limits table. The reader
 * function and the local server wire it the same way. Every call of a request that
 * runs under a deadline (withDeadline, core/deadline.ts) is aborted when it passes.
 * @throws ConfigError for a bad HOOKWARDEN_API_RATE_LIMIT, HOOKWARDEN_READ_BUDGET or stream setting
 */
export const readerDependencies = (options: ReaderWiringOptions): ReaderDependencies => {
  const { config, telemetry } = options;
  // Every store's calls carry the request's deadline, where the route sets one (GET /deliveries…).
  const client = deadlineBound(options.client);
  const env = options.env ?? process.env;
  const tokens = new TokenCache({
    store: new DynamoDbTokenStore({ client, tableName: tableName(TOKENS_TABLE, env) }),
    ...(options.tokenCacheMs === undefined ? {} : { maxAgeMs: options.tokenCacheMs }),
    ...(options.now ? { now: options.now } : {}),
    onTouchError: (error) => telemetry.logger.warn('could not record a token use', { error }),
  });
  const settings = options.settings ?? readerSettings(env);
  const rateLimiter = new DynamoDbRateLimiter({ client, tableName: config.tables.rateLimits });
  return {
    config,
    telemetry,
    store: new DynamoDbDeliveryStore({ client, tableName: config.tables.deliveries }),
    feed: new DynamoDbDeliveryFeed({ client, tableName: config.tables.deliveries }),
    tokens,
    rateLimiter,
    readBudget: new ReadBudget({ limiter: rateLimiter, rate: settings.readBudget, ...(options.now ? { now: options.now } : {}) }),
    settings,
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
};
