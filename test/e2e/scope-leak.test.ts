import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamId } from '../../core/reader/stream-position.js';
import { decodeCursor } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse } from '../helpers/sse.js';
import { deliveryRecord } from '../helpers/stored-delivery.js';

/**
 * Cursors and event ids are base64url, readable by anyone who holds them. A token scoped to `billing` must learn
 * nothing of `default` through them: before, a list cut after ten pages of other deliveries gave the next page as the
 * last key it read (`<ms>#default#<id>`), and so did a stream's id after a read of a full page of them.
 */
describe('a token scoped to one source, behind more deliveries of another than one read takes', () => {
  let h: ReaderHarness;
  let billing: string;
  let scoped: string;

  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 1000, windowSeconds: 60 } } });
    const first = await h.deliver('billing');
    expect(first.status).toBe(202);
    billing = first.id;
    // 600 of `default` after it, written straight to the table (faster than signing each), in a few milliseconds.
    const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries });
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 600; i += 100)
      await Promise.all(Array.from({ length: 100 }, (_, j) => store.claim(deliveryRecord(`other_${i + j}`, now), { nowSeconds: now })));
    scoped = (await h.token({ sources: ['billing'] })).token;
  });
  afterAll(() => h.close());

  it('the list: no cursor names a default delivery, and following them lists the billing delivery once', async () => {
    const listed: string[] = [];
    const cursors: string[] = [];
    for (let next: string | null = '', pages = 0; next !== null; pages++) {
      expect(pages).toBeLessThan(200);
      const res = await h.get(`/deliveries?limit=1${next ? `&cursor=${next}` : ''}`, scoped);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { deliveries: Array<{ id: string }>; next: string | null };
      listed.push(...body.deliveries.map((d) => d.id));
      if (body.next !== null) cursors.push(decodeCursor(body.next) ?? `undecodable ${body.next}`);
      next = body.next;
    }
    expect(listed).toEqual([billing]);
    expect(cursors.length).toBeGreaterThan(0);
    expect(cursors.filter((seq) => seq.includes('default') || seq.includes('other_'))).toEqual([]);
  });

  it('the stream: no id names a default delivery; resumed from the last, it sends the next billing delivery', async () => {
    // Resumed from the start of time (an id of the first form), so its first reads pass over the 600.
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${scoped}`, 'last-event-id': 'MDAwMDAwMDAwMDAwMCN-' });
    expect(stream.status).toBe(200);
    expect((await stream.waitFor(1)).map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([billing]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    stream.close();
    const ids = [...stream.raw().matchAll(/^id: (.+)$/gm)].map((match) => match[1] as string);
    const positions = ids.map((id) => decodeStreamId(id));
    expect(positions.every((at) => at !== undefined)).toBe(true);
    expect(ids.map((id) => Buffer.from(id, 'base64url').toString('utf8')).filter((text) => /default|other_/.test(text))).toEqual([]);
    // The last id is past the 600 (a read cut at its limit moved the position), and resumes without sending them.
    const resumed = await openSse(`${h.url}/events`, { authorization: `Bearer ${scoped}`, 'last-event-id': ids.at(-1) as string });
    const next = await h.deliver('billing');
    expect((await resumed.waitFor(1)).map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([next.id]);
    resumed.close();
  });
});
