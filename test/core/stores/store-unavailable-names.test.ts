import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../core/errors.js';
import { DynamoDbControlsStore } from '../../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DynamoDbRateLimiter } from '../../../core/stores/dynamodb-rate-limiter.js';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE, TOKENS_TABLE } from '../../../core/stores/tables.js';
import { DynamoDbTokenStore } from '../../../core/stores/token-store.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { failRequests } from '../../helpers/store-faults.js';

// Each store on dynalite, its requests throttled on the client (test/helpers/store-faults.ts): the 503
// names the store and the table that failed, not "the delivery store" for every table.
describe('a throttled table: the 503 names its store and table', () => {
  let local: LocalStore;
  let client: DynamoDBClient;

  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());
  afterEach(() => client.destroy());

  const throttledClient = (command: string): DynamoDBClient => {
    client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local', maxAttempts: 1 });
    failRequests(client, command, { times: 100 });
    return client;
  };
  const NOW = Math.floor(Date.now() / 1000);

  it.each([
    [
      'controls (blocks and disabled sources)',
      'GetItemCommand',
      (c: DynamoDBClient) => new DynamoDbControlsStore({ client: c, tableName: RATE_LIMITS_TABLE.localName }).load(NOW),
      'The controls store (table hookwarden-rate-limits) is unavailable; retry later.',
    ],
    [
      'controls, a block written',
      'UpdateItemCommand',
      (c: DynamoDBClient) =>
        new DynamoDbControlsStore({ client: c, tableName: RATE_LIMITS_TABLE.localName }).block({
          range: '203.0.113.7',
          expiresAt: NOW + 60,
          reason: 'test',
          createdAt: NOW,
        }),
      'The controls store (table hookwarden-rate-limits) is unavailable; retry later.',
    ],
    [
      'rate limits',
      'UpdateItemCommand',
      (c: DynamoDBClient) =>
        new DynamoDbRateLimiter({ client: c, tableName: RATE_LIMITS_TABLE.localName }).hit(
          'source:default',
          { limit: 10, windowSeconds: 60 },
          NOW * 1000,
        ),
      'The rate-limit store (table hookwarden-rate-limits) is unavailable; retry later.',
    ],
    [
      'read tokens',
      'ScanCommand',
      (c: DynamoDBClient) => new DynamoDbTokenStore({ client: c, tableName: TOKENS_TABLE.localName }).list(),
      'The token store (table hookwarden-tokens) is unavailable; retry later.',
    ],
    [
      'deliveries (as before)',
      'GetItemCommand',
      (c: DynamoDBClient) => new DynamoDbDeliveryStore({ client: c, tableName: DELIVERIES_TABLE.localName }).get('default', 'msg_1', NOW),
      'The delivery store is unavailable; retry later.',
    ],
  ])('%s', async (_, command, call, message) => {
    const failure = await call(throttledClient(command)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as StoreUnavailableError).message).toBe(message);
    expect((failure as StoreUnavailableError).statusCode).toBe(503);
  });
});
