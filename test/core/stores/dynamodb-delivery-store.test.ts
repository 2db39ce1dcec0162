import { randomBytes } from 'node:crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../core/errors.js';
import { deliveryKey, type DeliveryRecord } from '../../../core/stores/delivery-store.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

const NOW = 1_800_000_000;
let n = 0;
const record = (overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  source: 'default',
  deliveryId: `msg_${++n}`,
  receivedAt: NOW * 1000,
  expiresAt: NOW + 3600,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ hello: 'world', n })),
  clientIp: '203.0.113.1',
  ...overrides,
});

describe('DynamoDbDeliveryStore against dynalite', () => {
  let local: LocalStore;
  let store: DynamoDbDeliveryStore;
  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName });
  });
  afterAll(() => local.close());

  it('claims a new delivery and reads it back with its body', async () => {
    const r = record({ eventType: 'push' });
    expect((await store.claim(r, { nowSeconds: NOW })).outcome).toBe('claimed');
    const stored = await store.get(r.source, r.deliveryId, NOW);
    expect(stored).toMatchObject({
      source: 'default',
      deliveryId: r.deliveryId,
      eventType: 'push',
      status: 'stored',
      clientIp: '203.0.113.1',
    });
    expect(stored?.body.equals(r.body)).toBe(true);
  });

  it('reports a live copy as a duplicate without overwriting it', async () => {
    const r = record();
    await store.claim(r, { nowSeconds: NOW });
    const again = await store.claim({ ...r, body: Buffer.from('other') }, { nowSeconds: NOW + 10 });
    expect(again).toEqual({ outcome: 'duplicate', status: 'stored' });
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });

  it('treats an expired record as absent even before TTL deletes it', async () => {
    const r = record({ expiresAt: NOW + 5 });
    await store.claim(r, { nowSeconds: NOW });
    expect(await store.get(r.source, r.deliveryId, NOW + 5)).toBeUndefined();
    expect((await store.claim({ ...r, expiresAt: NOW + 100 }, { nowSeconds: NOW + 5 })).outcome).toBe('claimed');
  });

  it('holds a processing record for its lease only, and completes or releases it by token', async () => {
    const r = record();
    const first = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (first.outcome !== 'claimed') throw new Error('expected a claim');
    expect(await store.claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 })).toEqual({
      outcome: 'duplicate',
      status: 'processing',
      leaseExpiresAt: NOW + 30,
    });
    await store.release(r.source, r.deliveryId, 'someone-else');
    expect(await store.get(r.source, r.deliveryId, NOW)).toBeDefined();
    await store.complete(r.source, r.deliveryId, first.token);
    expect((await store.get(r.source, r.deliveryId, NOW + 60))?.status).toBe('stored');

    const abandoned = record();
    await store.claim(abandoned, { nowSeconds: NOW, leaseSeconds: 5 });
    expect((await store.claim(abandoned, { nowSeconds: NOW + 5, leaseSeconds: 5 })).outcome).toBe('claimed');

    const released = record();
    const claim = await store.claim(released, { nowSeconds: NOW, leaseSeconds: 5 });
    await store.release(released.source, released.deliveryId, (claim as { token: string }).token);
    expect(await store.get(released.source, released.deliveryId, NOW)).toBeUndefined();
  });

  it('claims over a lapsed lease only while the record is still processing (AND before OR in the condition)', async () => {
    // A completed record that still carries a past lease (no version writes one, but the condition must not rely on that).
    const r = record();
    await local.client.send(
      new PutItemCommand({
        TableName: DELIVERIES_TABLE.localName,
        Item: {
          pk: { S: deliveryKey(r.source, r.deliveryId) },
          source: { S: r.source },
          deliveryId: { S: r.deliveryId },
          expiresAt: { N: String(NOW + 3600) },
          status: { S: 'stored' },
          leaseExpiresAt: { N: String(NOW - 60) },
          token: { S: 'earlier' },
        },
      }),
    );
    expect(await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 })).toMatchObject({ outcome: 'duplicate', status: 'stored' });
    // Still processing, lease run out: taken over.
    const held = record();
    await store.claim(held, { nowSeconds: NOW - 100, leaseSeconds: 30 });
    expect((await store.claim(held, { nowSeconds: NOW, leaseSeconds: 30 })).outcome).toBe('claimed');
  });

  it('lists live deliveries newest first, by source', async () => {
    await store.claim(record({ source: 'listed', receivedAt: 1 }), { nowSeconds: NOW });
    await store.claim(record({ source: 'listed', receivedAt: 2 }), { nowSeconds: NOW });
    await store.claim(record({ source: 'listed', receivedAt: 3, expiresAt: NOW - 1 }), { nowSeconds: NOW - 10 });
    const listed = await store.list({ source: 'listed', limit: 10, nowSeconds: NOW });
    expect(listed.map((d) => d.receivedAt)).toEqual([2, 1]);
  });

  it('stores a body too large for one item (it was refused 413) and reads it back whole; see large-bodies.test.ts', async () => {
    const r = record({ body: randomBytes(400_000) });
    expect((await store.claim(r, { nowSeconds: NOW })).outcome).toBe('claimed');
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });

  it('turns an unreachable store into StoreUnavailableError (503 + Retry-After)', async () => {
    const down = new DynamoDbDeliveryStore({
      client: createDynamoDbClient({ endpoint: 'http://127.0.0.1:9', region: 'local', maxAttempts: 1 }),
      tableName: 'x',
    });
    await expect(down.claim(record(), { nowSeconds: NOW })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(down.ping()).rejects.toMatchObject({ statusCode: 503, headers: { 'Retry-After': expect.any(String) } });
  });
});
