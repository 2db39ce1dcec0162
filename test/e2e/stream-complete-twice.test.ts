import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse, type SseEvent } from '../helpers/sse.js';
import { deliveryRecord } from '../helpers/stored-delivery.js';

const idOf = (e: SseEvent) => (JSON.parse(e.data) as { id: string }).id;

describe('a delivery completed twice, as GET /events and GET /deliveries see it', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 } } });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());

  it('is sent once and keeps its place in the list', async () => {
    const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries });
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const held = deliveryRecord('held_by_handler', nowSeconds);
    const claimed = await store.claim({ ...held, expiresAt: nowSeconds + 600 }, { nowSeconds, leaseSeconds: 60 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    await store.complete(held.source, held.deliveryId, claimed.token);
    await stream.waitFor(1);
    const next = await h.deliver('default');
    await stream.waitFor(2);
    await store.complete(held.source, held.deliveryId, claimed.token);
    const last = await h.deliver('billing');
    await stream.waitFor(3);
    await sleep(600); // a second copy would show up by now (the harness polls every 200 ms)
    stream.close();
    expect(stream.events.filter((e) => e.event === 'delivery').map(idOf)).toEqual([held.deliveryId, next.id, last.id]);
    const listed = (await (await h.get('/deliveries', token)).json()) as { deliveries: Array<{ id: string }> };
    expect(listed.deliveries.map((d) => d.id)).toEqual([last.id, next.id, held.deliveryId]);
  });
});
