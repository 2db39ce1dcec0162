import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, DynamoDbDeliveryFeed, encodeCursor, seqOf } from '../../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

describe('cursors', () => {
  it('round-trip a sort key and refuse anything else', () => {
    const seq = seqOf(1_764_000_000_123, 'stripe', 'evt_1#with#hashes');
    expect(decodeCursor(encodeCursor(seq))).toBe(seq);
  });

  it.each([
    [''],
    ['!!!'],
    [encodeCursor('not a key')],
    [encodeCursor('123#stripe#x')],
    [encodeCursor('1764000000123#Stripe#x')],
    [`${encodeCursor('1764000000123#stripe#x')}=`],
    [Buffer.from([0x31, 0xff]).toString('base64url')],
    ['A'.repeat(5000)],
  ])('refuses %j', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

describe('the byTime index on dynalite', () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());

  it('holds a delivery a wrapped handler still processes only once it is completed, at its completion time', async () => {
    let clock = 1_800_000_000_000;
    const store = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName, now: () => clock });
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const nowSeconds = Math.floor(clock / 1000);
    const claimed = await store.claim(
      {
        source: 'default',
        deliveryId: 'held_1',
        receivedAt: clock,
        expiresAt: nowSeconds + 600,
        headers: {},
        body: Buffer.from('{}'),
        clientIp: '127.0.0.1',
      },
      { nowSeconds, leaseSeconds: 60 },
    );
    expect((await feed.newest({ limit: 10, nowSeconds })).entries).toEqual([]);
    clock += 5_000;
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    await store.complete('default', 'held_1', claimed.token);
    const entries = (await feed.newest({ limit: 10, nowSeconds })).entries;
    expect(entries.map((e) => e.seq)).toEqual([seqOf(clock, 'default', 'held_1')]);
    // Expired deliveries are left out.
    expect((await feed.newest({ limit: 10, nowSeconds: nowSeconds + 600 })).entries).toEqual([]);
  });
});
