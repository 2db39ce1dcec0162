/**
 * DynamoDB table definitions shared by the CDK constructs and the local
 * bootstrap, so the two can never drift. Keys are strings; TTL is `expiresAt`
 * (epoch seconds) and is also checked in every condition, because TTL deletion
 * is lazy.
 */

/** One table's shape, independent of CDK and of the SDK. */
export interface TableDefinition {
  /** Logical id used in CDK and the default local table name suffix. */
  readonly id: 'Deliveries' | 'RateLimits';
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
}

/** Deliveries, one item per accepted delivery: key `source#deliveryId`; doubles as the replay guard. */
export const DELIVERIES_TABLE: TableDefinition = {
  id: 'Deliveries',
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
  stream: true,
  tableNameEnv: 'DELIVERIES_TABLE_NAME',
  localName: 'hookwarden-deliveries',
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

/** Every table, for the local bootstrap. */
export const TABLES: readonly TableDefinition[] = [DELIVERIES_TABLE, RATE_LIMITS_TABLE];

/** The table name from the environment, or the local default. */
export const tableName = (table: TableDefinition, env: NodeJS.ProcessEnv = process.env): string =>
  env[table.tableNameEnv] || table.localName;
