import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seqFloor } from '../../core/stores/delivery-feed.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse } from '../helpers/sse.js';

interface Page {
  deliveries: Array<{ source: string; id: string }>;
  next: string | null;
}

/**
 * A delivery item whose index sort key (`seq`) is not one this version writes: edited by hand, or written otherwise.
 * Before, a list page ending at it gave it as `next` and an event sent for it gave it in its `id:`, and the API refused
 * both (400 `cursor_invalid`): the consumer following the list, or resuming the stream, was stuck for good. Such items
 * are now left out of the list and the stream, and a read cut at one gives a bound the API takes.
 */
describe('a delivery item whose sort key is not one this version writes', () => {
  let h: ReaderHarness;
  let token: string;

  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 1000, windowSeconds: 60 } } });
    token = (await h.token({ sources: ['default'] })).token;
  });
  afterAll(() => h.close());

  /** A stored delivery of `default`, in the index under `seq` as given. */
  const storeEdited = async (id: string, seq: string): Promise<void> => {
    await h.storeItem(id, { seq: { S: seq } });
  };

  it('the list pages past each one, one cursor after another, and lists only the deliveries', async () => {
    const first = await h.deliver('default');
    // Above every sort key (newest first: the first item read), in the middle of one millisecond, below every one.
    await storeEdited('edited_above', 'legacy-1');
    await storeEdited('edited_middle', `${seqFloor(Date.now())}#default`);
    await storeEdited('edited_upper', `${seqFloor(Date.now())}#Default#x`);
    const second = await h.deliver('default');
    await storeEdited('edited_below', ' 1');
    expect([first.status, second.status]).toEqual([202, 202]);

    const listed: string[] = [];
    let cursor: string | null = '';
    for (let page = 0; page < 20 && cursor !== null; page++) {
      const res = await h.get(`/deliveries?limit=1${cursor ? `&cursor=${cursor}` : ''}`, token);
      expect(res.status, `page ${page}`).toBe(200);
      const body = (await res.json()) as Page;
      listed.push(...body.deliveries.map((d) => d.id));
      cursor = body.next;
    }
    expect(cursor).toBeNull();
    expect(listed).toEqual([second.id, first.id]);
    const all = (await (await h.get('/deliveries?limit=100', token)).json()) as Page;
    expect(all.deliveries.map((d) => d.id)).toEqual([second.id, first.id]);
    // It is still a delivery: read by its id.
    expect((await h.get('/deliveries/default/edited_middle', token)).status).toBe(200);
  });

  it('the stream passes over one, and every id it gives resumes', async () => {
    // A new stream starts settleMs before it opens: one opened within 100 ms of the test above's last delivery (under load
    // in CI) sent that delivery too.
    await h.settled();
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    await storeEdited('edited_streamed', `${seqFloor(Date.now())}#default`);
    const after = await h.deliver('default');
    expect(after.status).toBe(202);
    const events = await stream.waitFor(1);
    // One poll more: an event for the edited item would have come by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    stream.close();
    expect(events.map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([after.id]);
    expect(stream.raw()).not.toContain('edited_streamed');
    const ids = [...stream.raw().matchAll(/^id: (.+)$/gm)].map((m) => m[1] as string);
    expect(ids.length).toBeGreaterThan(1);
    for (const id of ids) {
      const resumed = await h.get('/events', token, { 'last-event-id': id });
      expect(resumed.status).toBe(200);
      await resumed.body?.cancel();
    }
  });
});
