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
 * become {@link StoreUnavailableError} (503 + Retry-After); HttpErrors pass;
 * everything else is rethrown as is (a 500, details in the log only).
 */
export const translateStoreError = (error: unknown): never => {
  if (error instanceof HttpError) throw error;
  if (isUnavailable(error)) throw new StoreUnavailableError(error);
  throw error;
};
