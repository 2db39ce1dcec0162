import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../../core/stores/delivery-store.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

const NOW = 1_800_000_000;
let n = 0;
const record = (): DeliveryRecord => ({
  source: 'default',
  deliveryId: `msg_lost_${++n}`,
  receivedAt: NOW * 1000,
  expiresAt: NOW + 3600,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ n })),
  clientIp: '203.0.113.1',
});

/**
 * The network drops the answer to the first PutItem after dynalite has written
 * the item: the SDK sees a reset connection and sends the same PutItem again,
 * as it does in AWS (the request path's client retries up to 3 times).
 */
const dropFirstPutAnswer = (client: DynamoDBClient): { dropped: () => number } => {
  let dropped = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'PutItemCommand' && dropped === 0) {
        dropped += 1;
        throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
      }
      return result;
    },
    // Inside the retry loop (finalizeRequest), around the sending and parsing of one attempt.
    { step: 'deserialize', name: 'dropFirstPutAnswer' },
  );
  return { dropped: () => dropped };
};

describe('a claim whose first answer is lost on the way back', () => {
  let local: LocalStore;
  let client: DynamoDBClient;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterEach(() => client?.destroy());
  afterAll(() => local.close());

  const storeDroppingFirstAnswer = () => {
    client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    const fault = dropFirstPutAnswer(client);
    return { store: new DynamoDbDeliveryStore({ client, tableName: DELIVERIES_TABLE.localName }), fault };
  };

  it('is the claim it is (the retry finds its own write), so a wrapped handler runs now, not after the lease', async () => {
    const { store, fault } = storeDroppingFirstAnswer();
    const r = record();
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    expect(fault.dropped()).toBe(1);
    // Before: "duplicate, processing": 409 until the lease passed, and a sender that does not retry (GitHub) lost it.
    expect(claimed.outcome).toBe('claimed');
    if (claimed.outcome !== 'claimed') return;
    await store.complete(r.source, r.deliveryId, claimed.token);
    expect(await store.get(r.source, r.deliveryId, NOW)).toMatchObject({ status: 'stored' });
    // A real copy is still a duplicate.
    const copy = await new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName }).claim(r, {
      nowSeconds: NOW + 1,
      leaseSeconds: 30,
    });
    expect(copy).toMatchObject({ outcome: 'duplicate', status: 'stored' });
  });

  it('is accepted in store mode too (stored once, counted as accepted, not as a duplicate of itself)', async () => {
    const { store, fault } = storeDroppingFirstAnswer();
    const r = record();
    expect((await store.claim(r, { nowSeconds: NOW })).outcome).toBe('claimed');
    expect(fault.dropped()).toBe(1);
    expect(await store.get(r.source, r.deliveryId, NOW)).toMatchObject({ status: 'stored', deliveryId: r.deliveryId });
  });

  it("still refuses another request's live claim: a concurrent copy is a duplicate while the first is processing", async () => {
    client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    const first = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const second = new DynamoDbDeliveryStore({ client, tableName: DELIVERIES_TABLE.localName });
    const r = record();
    expect((await first.claim(r, { nowSeconds: NOW, leaseSeconds: 30 })).outcome).toBe('claimed');
    expect(await second.claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 })).toMatchObject({ outcome: 'duplicate', status: 'processing' });
  });
});
