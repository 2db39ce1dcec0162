import { describe, expect, it } from 'vitest';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';
import { deliveryRecord } from '../../helpers/stored-delivery.js';

const NOW = 1_800_000_000;
let n = 0;
const record = () => deliveryRecord(`msg_lost_${++n}`, NOW);

describe('a claim whose first answer is lost on the way back', () => {
  const stores = storeForFaults();
  const honest = () => new DynamoDbDeliveryStore({ client: stores.local().client, tableName: DELIVERIES_TABLE.localName });
  /** The network drops the answer to the first PutItem after dynalite has written the item; the SDK sends it again. */
  const storeDroppingFirstAnswer = () => {
    const client = stores.client();
    const fault = dropAnswers(client, 'PutItemCommand');
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
    const copy = await honest().claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 });
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
    const first = honest();
    const second = new DynamoDbDeliveryStore({ client: stores.client(), tableName: DELIVERIES_TABLE.localName });
    const r = record();
    expect((await first.claim(r, { nowSeconds: NOW, leaseSeconds: 30 })).outcome).toBe('claimed');
    expect(await second.claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 })).toMatchObject({ outcome: 'duplicate', status: 'processing' });
  });
});
