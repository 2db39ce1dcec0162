import { describe, expect, it } from 'vitest';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';
import { deliveryRecord } from '../../helpers/stored-delivery.js';

const NOW = 1_800_000_000;
let n = 0;
const record = () => deliveryRecord(`msg_done_${++n}`, NOW);

// Both writes are conditioned on this claim's token, which only this claim holds (and complete on the record still processing).
describe('complete and release whose first answer is lost on the way back (the SDK sends them again)', () => {
  const stores = storeForFaults();
  const honest = () => new DynamoDbDeliveryStore({ client: stores.local().client, tableName: DELIVERIES_TABLE.localName });
  const faulty = () => {
    const client = stores.client();
    return { store: new DynamoDbDeliveryStore({ client, tableName: DELIVERIES_TABLE.localName }), client };
  };

  it('complete: the retry finds the record stored with this token and changes nothing; the record is stored once, without an error', async () => {
    const r = record();
    const claimed = await honest().claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    const { store, client } = faulty();
    const fault = dropAnswers(client, 'UpdateItemCommand');
    // The resend finds the record stored with this token: a complete that landed, not a lost lease.
    await expect(store.complete(r.source, r.deliveryId, claimed.token)).resolves.toBe(true);
    expect(fault.dropped()).toBe(1);
    expect(fault.attempts()).toBe(2);
    expect(await honest().get(r.source, r.deliveryId, NOW)).toMatchObject({ status: 'stored' });
    expect(await honest().claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 })).toMatchObject({ outcome: 'duplicate', status: 'stored' });
  });

  it("release: the retry finds nothing of its own and deletes nothing, not even the sender's retry claimed in between", async () => {
    const r = record();
    const claimed = await honest().claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    const { store, client } = faulty();
    let retried: Awaited<ReturnType<DynamoDbDeliveryStore['claim']>> | undefined;
    const fault = dropAnswers(client, 'DeleteItemCommand', {
      between: async () => (retried = await honest().claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 })),
    });
    // The resend finds another claim's record and says so; the replay guard does not call it a lost lease, since its
    // lease still ran (a takeover comes only after it): see wrapped-handler-outlives-timeout.test.ts.
    await expect(store.release(r.source, r.deliveryId, claimed.token)).resolves.toBe(false);
    expect(fault.attempts()).toBe(2);
    expect(retried?.outcome).toBe('claimed');
    // The sender's retry holds the record: a copy now is in progress, not a new claim.
    expect(await honest().claim(r, { nowSeconds: NOW + 2, leaseSeconds: 30 })).toMatchObject({
      outcome: 'duplicate',
      status: 'processing',
    });
  });
});
