/**
 * DynamoDB table definitions shared by the CDK constructs and the local
 * bootstrap, so the two can never drift. Keys are strings; TTL is `expiresAt`
 * (epoch seconds) and is also checked in every condition, because TTL deletion
 * is lazy.
 */

/** One table's shape, independent of CDK and of the SDK. */
export interface TableDefinition {
  /** Logical id used in CDK and the default local table name suffix. */
  readonly id: 'Deliveries' | 'RateLimits' | 'Tokens';
  /** Partition key attribute (type S). */
  readonly partitionKey: string;
  /** TTL attribute, epoch seconds. */
  readonly ttlAttribute: 'expiresAt';
  /** Whether consumers read new items from a stream (NEW_IMAGE). */
  readonly stream: boolean;
  /** Environment variable carrying the deployed table name to the functions. */
  readonly tableNameEnv: string;
  /** Table name used locally (and when the variable is unset). */
  readonly localName: string;
  /** Global secondary indexes (string keys). @default none */
  readonly indexes?: readonly IndexDefinition[];
}

/** A global secondary index with a string partition and sort key, projecting the attributes named. */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes copied into the index (INCLUDE projection). */
  readonly include: readonly string[];
}

/**
 * The deliveries' time-ordered index: every stored delivery carries `feed`
 * (one constant value) and `seq` (`<13-digit epoch ms when stored>#<source>#<id>`),
 * so one Query reads deliveries in the order they were stored, newest first for
 * `GET /deliveries` and oldest first after a cursor for `GET /events`. Sparse:
 * a record a wrapped handler still holds (`processing`) gets them only when completed.
 */
export const DELIVERIES_BY_TIME: IndexDefinition = {
  name: 'byTime',
  partitionKey: 'feed',
  sortKey: 'seq',
  include: ['source', 'deliveryId', 'providerId', 'receivedAt', 'eventType', 'bodyBytes', 'expiresAt'],
};

/**
 * Deliveries, one item per accepted delivery: key `source#deliveryId`; doubles as the replay guard. A body too
 * large for that item is kept in part items beside it (`~part#…`, see `body-parts.ts`): a reader of the table or
 * its stream skips them.
 */
export const DELIVERIES_TABLE: TableDefinition = {
  id: 'Deliveries',
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
  stream: true,
  tableNameEnv: 'DELIVERIES_TABLE_NAME',
  localName: 'hookwarden-deliveries',
  indexes: [DELIVERIES_BY_TIME],
};

/** Sliding-window counters and blocklist entries. */
export const RATE_LIMITS_TABLE: TableDefinition = {
  id: 'RateLimits',
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
  stream: false,
  tableNameEnv: 'RATE_LIMITS_TABLE_NAME',
  localName: 'hookwarden-rate-limits',
};

/**
 * The partition keys of the rate-limits table: one sliding-window counter per
 * limit key (`rate#<key>`), and the containment item (blocklist, disabled
 * sources) the CLI writes. The functions' IAM policies allow UpdateItem on
 * counter keys only, so none of them can lift a block or enable a source.
 */
export const RATE_LIMITS_KEYS = { counterPrefix: 'rate#', controls: 'controls' } as const;

/** The deliveries API's limit keys: `token:<id>` per request, `stream:<id>` per opened stream. */
export const READER_LIMIT_KEYS = { token: 'token:', stream: 'stream:', read: 'read:' } as const;

/** Read tokens for the deliveries API: key `token#<id>`, only a hash of each token stored; TTL at the token's expiry. */
export const TOKENS_TABLE: TableDefinition = {
  id: 'Tokens',
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
  stream: false,
  tableNameEnv: 'TOKENS_TABLE_NAME',
  localName: 'hookwarden-tokens',
};

/** Every table, for the local bootstrap. */
export const TABLES: readonly TableDefinition[] = [DELIVERIES_TABLE, RATE_LIMITS_TABLE, TOKENS_TABLE];

/** The table name from the environment, or the local default. */
export const tableName = (table: TableDefinition, env: NodeJS.ProcessEnv = process.env): string =>
  env[table.tableNameEnv] || table.localName;
