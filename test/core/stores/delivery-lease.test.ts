import { randomBytes } from 'node:crypto';
import { DeleteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_PART_PREFIX, bodyPartKey } from '../../../core/stores/body-parts.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { StoreUnavailableError } from '../../../core/errors.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { failRequests } from '../../helpers/store-faults.js';
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

  describe('a body in parts, renewed past its retention', () => {
    type Item = Record<string, AttributeValue>;
    const items = async (): Promise<Item[]> => {
      const found: Item[] = [];
      let start: Item | undefined;
      do {
        const page = await local.client.send(new ScanCommand({ TableName: DELIVERIES_TABLE.localName, ExclusiveStartKey: start }));
        found.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return found;
    };
    /** The claim's part items, in part order. */
    const partsOf = async (token: string): Promise<Item[]> =>
      (await items())
        .filter((i) => i.pk?.S?.startsWith(`${BODY_PART_PREFIX}${token}#`))
        .sort((a, b) => Number(a.pk?.S?.split('#').pop()) - Number(b.pk?.S?.split('#').pop()));
    /** What DynamoDB's TTL may do at `nowSeconds`: delete every item whose expiresAt has passed (dynalite has no TTL). */
    const sweepExpired = async (nowSeconds: number): Promise<void> => {
      for (const item of await items())
        if (Number(item.expiresAt?.N) <= nowSeconds)
          await local.client.send(new DeleteItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: item.pk as AttributeValue } }));
    };
    /** A 600 KB random body (gzip cannot bring it under one item) kept 40 s, claimed with a 30 s lease. */
    const heldLarge = async () => {
      const r = { ...deliveryRecord(`lease_${++n}`, NOW), body: randomBytes(600_000), expiresAt: NOW + 40 };
      const held = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
      if (held.outcome !== 'claimed') throw new Error('not claimed');
      return { r, token: held.token };
    };

    it('every part moves with its record, so TTL never takes the body of a delivery it keeps', async () => {
      const { r, token } = await heldLarge();
      expect((await partsOf(token)).map((p) => Number(p.expiresAt?.N))).toEqual([NOW + 40, NOW + 40]);
      await expect(store.renew(r.source, r.deliveryId, token, NOW + 100)).resolves.toBe(true);
      await expect(store.renew(r.source, r.deliveryId, token, NOW + 130)).resolves.toBe(true);
      expect((await partsOf(token)).map((p) => Number(p.expiresAt?.N))).toEqual([NOW + 130, NOW + 130]);
      await expect(store.complete(r.source, r.deliveryId, token)).resolves.toBe(true);
      // Past the retention and the first lease, before the last lease: the record is live, so its body must be.
      await sweepExpired(NOW + 120);
      const stored = await store.get(r.source, r.deliveryId, NOW + 120);
      expect(stored?.body.equals(r.body)).toBe(true);
    });

    it('a renewal within the retention writes no part, and a missing part is never written back', async () => {
      const { r, token } = await heldLarge();
      await expect(store.renew(r.source, r.deliveryId, token, NOW + 35)).resolves.toBe(true);
      expect((await partsOf(token)).map((p) => Number(p.expiresAt?.N))).toEqual([NOW + 40, NOW + 40]);
      await local.client.send(new DeleteItemCommand({ TableName: DELIVERIES_TABLE.localName, Key: { pk: { S: bodyPartKey(token, 1) } } }));
      await expect(store.renew(r.source, r.deliveryId, token, NOW + 100)).resolves.toBe(true);
      expect((await partsOf(token)).map((p) => [p.pk?.S, Number(p.expiresAt?.N)])).toEqual([[bodyPartKey(token, 0), NOW + 100]]);
      await expect(store.release(r.source, r.deliveryId, token)).resolves.toBe(true);
    });

    it('a part that could not be moved fails the renewal, and the next renewal moves it', async () => {
      const { r, token } = await heldLarge();
      const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local', maxAttempts: 2 });
      const faulty = new DynamoDbDeliveryStore({ client, tableName: DELIVERIES_TABLE.localName });
      const faults = failRequests(client, 'UpdateItemCommand', {
        times: 2,
        // Both attempts at the second part: the first part moves, the second stays behind.
        when: (input) => (input.Key as Record<string, AttributeValue>).pk?.S === bodyPartKey(token, 1),
      });
      await expect(faulty.renew(r.source, r.deliveryId, token, NOW + 100)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(faults.failed()).toBe(2);
      expect((await partsOf(token)).map((p) => Number(p.expiresAt?.N))).toEqual([NOW + 100, NOW + 40]);
      await expect(faulty.renew(r.source, r.deliveryId, token, NOW + 110)).resolves.toBe(true);
      expect((await partsOf(token)).map((p) => Number(p.expiresAt?.N))).toEqual([NOW + 110, NOW + 110]);
      client.destroy();
    });

    it('a token that no longer holds the record moves none of its parts', async () => {
      const { r, token } = await heldLarge();
      const retry = await store.claim(r, { nowSeconds: NOW + 70, leaseSeconds: 30 });
      expect(retry.outcome).toBe('claimed');
      await expect(store.renew(r.source, r.deliveryId, token, NOW + 200)).resolves.toBe(false);
      if (retry.outcome === 'claimed') expect((await partsOf(retry.token)).every((p) => Number(p.expiresAt?.N) < NOW + 200)).toBe(true);
    });
  });
});
