import { describe, expect, it } from 'vitest';
import { HttpError, StoreUnavailableError } from '../../../core/errors.js';
import { isUnavailable, translateStoreError } from '../../../core/stores/dynamodb-errors.js';

const sdkError = (name: string, status?: number) =>
  Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

describe('translating DynamoDB errors at the store boundary', () => {
  it.each([
    ['throttled', sdkError('ProvisionedThroughputExceededException', 400)],
    ['throttled (on-demand)', sdkError('ThrottlingException', 400)],
    ['request limit', sdkError('RequestLimitExceeded', 400)],
    ['service error', sdkError('InternalServerError', 500)],
    ['unreachable', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['timed out', sdkError('TimeoutError')],
  ])('%s → 503 unavailable with Retry-After', (_name, error) => {
    expect(isUnavailable(error)).toBe(true);
    expect(() => translateStoreError(error)).toThrow(StoreUnavailableError);
  });

  it.each([
    ['missing table', sdkError('ResourceNotFoundException', 400)],
    ['bad request', sdkError('ValidationException', 400)],
    ['access denied', sdkError('AccessDeniedException', 400)],
  ])('%s is rethrown as is (a 500, details in the log only)', (_name, error) => {
    expect(isUnavailable(error)).toBe(false);
    expect(() => translateStoreError(error)).toThrow(error);
  });

  it('passes HttpErrors through', () => {
    const error = new HttpError(413, 'payload_too_large', 'big');
    expect(() => translateStoreError(error)).toThrow(error);
  });
});
