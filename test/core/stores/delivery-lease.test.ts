import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { deliveryRecord } from '../../helpers/stored-delivery.js';

const NOW = 1_800_000_000;
let n = 0;

// A wrapped handler's lease against dynalite: what complete and release report once it ran out and a retry took the
// delivery over (the caller must learn of it), and the renewal the local server keeps it alive with.
describe('a delivery lease that runs out while its handler still runs', () => {
  let local: LocalStore;
  let store: DynamoDbDeliveryStore;
  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName });
  });
  afterAll(() => local.close());

  /** A delivery claimed with a 30 s lease, then taken over by a retry 60 s later: both tokens. */
  const takenOver = async () => {
    const r = deliveryRecord(`lease_${++n}`, NOW);
    const first = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    const retry = await store.claim(r, { nowSeconds: NOW + 60, leaseSeconds: 30 });
    if (first.outcome !== 'claimed' || retry.outcome !== 'claimed') throw new Error('not claimed');
    return { r, first: first.token, retry: retry.token };
  };

  it("complete by the first claim reports false and leaves the retry's record processing", async () => {
    const { r, first, retry } = await takenOver();
    await expect(store.complete(r.source, r.deliveryId, first)).resolves.toBe(false);
    expect(await store.stateOf(r.source, r.deliveryId, NOW + 61)).toMatchObject({ status: 'processing', leaseExpiresAt: NOW + 90 });
    await expect(store.complete(r.source, r.deliveryId, retry)).resolves.toBe(true);
  });

  it("release by the first claim reports false and removes nothing of the retry's", async () => {
    const { r, first, retry } = await takenOver();
    await expect(store.release(r.source, r.deliveryId, first)).resolves.toBe(false);
    expect(await store.stateOf(r.source, r.deliveryId, NOW + 61)).toMatchObject({ status: 'processing' });
    await expect(store.release(r.source, r.deliveryId, retry)).resolves.toBe(true);
    expect(await store.stateOf(r.source, r.deliveryId, NOW + 61)).toBeUndefined();
  });

  it('complete and release by the holder report true, as does a second complete or a release of a record already gone', async () => {
    const r = deliveryRecord(`lease_${++n}`, NOW);
    const held = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (held.outcome !== 'claimed') throw new Error('not claimed');
    await expect(store.complete(r.source, r.deliveryId, held.token)).resolves.toBe(true);
    await expect(store.complete(r.source, r.deliveryId, held.token)).resolves.toBe(true);
    const other = deliveryRecord(`lease_${++n}`, NOW);
    const claimed = await store.claim(other, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    await expect(store.release(other.source, other.deliveryId, claimed.token)).resolves.toBe(true);
    await expect(store.release(other.source, other.deliveryId, claimed.token)).resolves.toBe(true);
  });

  it('renew moves the lease on, so a copy past the first lease is still in progress', async () => {
    const r = deliveryRecord(`lease_${++n}`, NOW);
    const held = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (held.outcome !== 'claimed') throw new Error('not claimed');
    await expect(store.renew(r.source, r.deliveryId, held.token, NOW + 70)).resolves.toBe(true);
    expect(await store.claim(r, { nowSeconds: NOW + 60, leaseSeconds: 30 })).toEqual({
      outcome: 'duplicate',
      status: 'processing',
      leaseExpiresAt: NOW + 70,
    });
    await expect(store.complete(r.source, r.deliveryId, held.token)).resolves.toBe(true);
  });

  it('renew past the record’s expiresAt moves expiresAt with it: the record never expires under its lease', async () => {
    const r = { ...deliveryRecord(`lease_${++n}`, NOW), expiresAt: NOW + 40 };
    const held = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (held.outcome !== 'claimed') throw new Error('not claimed');
    await expect(store.renew(r.source, r.deliveryId, held.token, NOW + 100)).resolves.toBe(true);
    expect(await store.stateOf(r.source, r.deliveryId, NOW + 80)).toEqual({ status: 'processing', leaseExpiresAt: NOW + 100 });
    expect((await store.claim(r, { nowSeconds: NOW + 80, leaseSeconds: 30 })).outcome).toBe('duplicate');
  });

  it('renew reports false, and changes nothing, for a token that no longer holds the record or a record already stored', async () => {
    const { r, first } = await takenOver();
    await expect(store.renew(r.source, r.deliveryId, first, NOW + 500)).resolves.toBe(false);
    expect(await store.stateOf(r.source, r.deliveryId, NOW + 61)).toMatchObject({ leaseExpiresAt: NOW + 90 });
    const done = deliveryRecord(`lease_${++n}`, NOW);
    const claimed = await store.claim(done, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    await store.complete(done.source, done.deliveryId, claimed.token);
    await expect(store.renew(done.source, done.deliveryId, claimed.token, NOW + 500)).resolves.toBe(false);
    expect(await store.stateOf(done.source, done.deliveryId, NOW)).toEqual({ status: 'stored' });
  });
});
