import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryFeed, seqCeiling, seqOf } from '../../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';
import { deliveryRecord } from '../../helpers/stored-delivery.js';

const NOW = 1_800_000_000;
let n = 0;

describe('complete called twice with the same token (a wrapped handler or caller completing again)', () => {
  let local: LocalStore;
  let clock: number;
  let store: DynamoDbDeliveryStore;
  let feed: DynamoDbDeliveryFeed;
  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName, now: () => clock });
    feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
  });
  afterAll(() => local.close());

  it('keeps the first sort key: the delivery stays in its place in the list and a stream past it does not get it again', async () => {
    clock = NOW * 1000;
    const held = deliveryRecord(`held_twice_${++n}`, NOW);
    const claimed = await store.claim(held, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    clock += 1_000;
    await store.complete(held.source, held.deliveryId, claimed.token);
    const first = seqOf(clock, held.source, held.deliveryId);
    clock += 1_000;
    const later = deliveryRecord(`after_held_${n}`, NOW);
    await store.claim(later, { nowSeconds: NOW });

    clock += 5_000;
    // No error, and no lost lease to report: the record is this token's, stored.
    await expect(store.complete(held.source, held.deliveryId, claimed.token)).resolves.toBe(true);

    const ours = new Set([held.deliveryId, later.deliveryId]);
    const listed = (await feed.newest({ limit: 10, nowSeconds: NOW })).entries.filter((e) => ours.has(e.deliveryId));
    expect(listed.map((e) => e.seq)).toEqual([seqOf(NOW * 1000 + 2_000, later.source, later.deliveryId), first]);
    // A stream whose position is the later delivery reads nothing more.
    expect((await feed.between({ after: listed[0]?.seq as string, upTo: seqCeiling(clock), limit: 10, nowSeconds: NOW })).entries).toEqual(
      [],
    );
    expect(await store.get(held.source, held.deliveryId, NOW)).toMatchObject({ status: 'stored' });
  });

  it('changes nothing on a delivery stored without a lease (already complete from its claim)', async () => {
    clock = NOW * 1000;
    const r = deliveryRecord(`stored_once_${++n}`, NOW);
    const claimed = await store.claim(r, { nowSeconds: NOW });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    clock += 60_000;
    await store.complete(r.source, r.deliveryId, claimed.token);
    const entries = (await feed.newest({ limit: 10, nowSeconds: NOW })).entries.filter((e) => e.deliveryId === r.deliveryId);
    expect(entries.map((e) => e.seq)).toEqual([seqOf(NOW * 1000, r.source, r.deliveryId)]);
  });

  it('still changes nothing for a token that does not hold the record, and still completes for the one that does', async () => {
    clock = NOW * 1000;
    const r = deliveryRecord(`other_token_${++n}`, NOW);
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    // No error; the caller learns the token does not hold the record.
    await expect(store.complete(r.source, r.deliveryId, 'someone-else')).resolves.toBe(false);
    expect(await store.get(r.source, r.deliveryId, NOW)).toMatchObject({ status: 'processing' });
    await store.complete(r.source, r.deliveryId, claimed.token);
    expect(await store.get(r.source, r.deliveryId, NOW)).toMatchObject({ status: 'stored' });
  });
});

describe('complete whose first answer is lost, under the once-only condition', () => {
  const stores = storeForFaults();

  it('succeeds on the resent request (which now finds the record stored with this token) and keeps the sort key of the write that landed', async () => {
    let clock = NOW * 1000;
    const tableName = DELIVERIES_TABLE.localName;
    const honest = new DynamoDbDeliveryStore({ client: stores.local().client, tableName });
    const r = deliveryRecord(`lost_done_${++n}`, NOW);
    const claimed = await honest.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    const client = stores.client();
    const store = new DynamoDbDeliveryStore({ client, tableName, now: () => clock });
    // Time passes between the write that landed and the resend (the SDK's backoff).
    const fault = dropAnswers(client, 'UpdateItemCommand', { between: async () => (clock += 3_000) });
    const landedAt = clock;
    // The resend finds the record stored with this token: a complete that landed, not a lost lease.
    await expect(store.complete(r.source, r.deliveryId, claimed.token)).resolves.toBe(true);
    expect(fault.attempts()).toBe(2);
    expect(await honest.get(r.source, r.deliveryId, NOW)).toMatchObject({ status: 'stored' });
    const feed = new DynamoDbDeliveryFeed({ client: stores.local().client, tableName });
    const entries = (await feed.newest({ limit: 10, nowSeconds: NOW })).entries.filter((e) => e.deliveryId === r.deliveryId);
    expect(entries.map((e) => e.seq)).toEqual([seqOf(landedAt, r.source, r.deliveryId)]);
  });
});
