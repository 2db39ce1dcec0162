import { GetItemCommand, type AttributeValue, type ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpError, StoreUnavailableError } from '../errors.js';

const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** Whether an SDK error means "try again later" (throttled, unreachable, timed out, 5xx). */
export const isUnavailable = (error: unknown): boolean => {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e.name && UNAVAILABLE.has(e.name)) return true;
  if (e.code && NETWORK.has(e.code)) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return (
    e.$metadata?.httpStatusCode === undefined &&
    e.name !== undefined &&
    /timeout|abort|socket|network/i.test(e.name + ' ' + (error as Error).message)
  );
};

/**
 * Translates an SDK error at the store boundary: "try again later" errors
 * become {@link StoreUnavailableError} (503 + Retry-After) naming `store`; HttpErrors pass;
 * everything else is rethrown as is (a 500, details in the log only).
 * @param store the store that failed, as {@link storeLabel} names it @default 'delivery store'
 */
export const translateStoreError = (error: unknown, store?: string): never => {
  if (error instanceof HttpError) throw error;
  if (isUnavailable(error)) throw new StoreUnavailableError(error, undefined, store);
  throw error;
};

/**
 * A store as its 503 names it: what it holds and its table, so a throttled rate-limits table is not
 * reported as the delivery store.
 * @example storeLabel('rate-limit store', 'hookwarden-rate-limits') // 'rate-limit store (table hookwarden-rate-limits)'
 */
export const storeLabel = (store: string, tableName: string): string => `${store} (table ${tableName})`;

/**
 * Whether the SDK sent the request more than once. A conditional write that
 * failed after a retry may have failed on its own first attempt, which landed
 * and whose answer was lost: the caller then looks for its own mark in
 * {@link itemOfFailedCondition}.
 */
export const retriedBySdk = (error: { readonly $metadata?: { readonly attempts?: number } }): boolean =>
  (error.$metadata?.attempts ?? 1) > 1;

/**
 * The item a conditional write failed on: DynamoDB returns it with the error
 * (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`); dynalite does not, so it
 * is read, consistently. A failed read is translated as {@link translateStoreError} does, naming `store`.
 */
export const itemOfFailedCondition = async (
  client: DynamoDBClient,
  tableName: string,
  key: Record<string, AttributeValue>,
  error: ConditionalCheckFailedException,
  store?: string,
): Promise<Record<string, AttributeValue> | undefined> => {
  if (error.Item) return error.Item;
  try {
    return (await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
  } catch (readError) {
    return translateStoreError(readError, store);
  }
};
