import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamId, DIGEST_POWERS } from '../../core/reader/stream-position.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse, type SseEvent } from '../helpers/sse.js';
import { claimStored } from '../helpers/stored-delivery.js';

const idOf = (e: SseEvent) => (JSON.parse(e.data) as { id: string }).id;
const deliveries = (events: readonly SseEvent[]) => events.filter((e) => e.event === 'delivery');

/**
 * A delivery whose write becomes visible late: its sort key is behind what a
 * stream has already sent (an SDK retry after a timeout, index lag).
 * The client drops before it is visible and resumes after it is.
 */
describe('GET /events resumed after a delivery became visible late, behind the position', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 } } });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  const auth = () => ({ authorization: `Bearer ${token}` });

  /** Opens a stream, lets `fresh` deliveries through it, closes it: the last id the client had, and what it was sent. */
  const sendThenDrop = async (fresh: number) => {
    const stream = await openSse(`${h.url}/events`, auth());
    // The stream must be older than the late writes' lag (what was stored before it opened is not sent).
    await sleep(1500);
    for (let i = 0; i < fresh; i++) await h.deliver('default');
    const sent = await stream.waitFor(fresh);
    stream.close();
    const last = sent[sent.length - 1]?.id as string;
    return { last, sent: sent.map(idOf), storedAtMs: Number(decodeStreamId(last)?.position.slice(0, 13)) };
  };
  /** Stores `ids` as a writer whose clock is `behindMs` behind the sort key the stream reached. */
  const storeLate = async (ids: readonly string[], storedAtMs: number, behindMs = 500) => {
    const slow = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries, now: () => storedAtMs - behindMs });
    for (const id of ids) await claimStored(slow, id);
  };

  it('sends the late delivery once on resume, and nothing the client already had', async () => {
    const before = await sendThenDrop(3);
    await storeLate(['late_one'], before.storedAtMs);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': before.last });
    expect(resumed.status).toBe(200);
    const [late] = await resumed.waitFor(1);
    expect(idOf(late as SseEvent)).toBe('late_one');
    const next = await h.deliver('billing');
    await resumed.waitFor(2);
    await sleep(600); // anything extra would show up by now
    resumed.close();
    expect(deliveries(resumed.events).map(idOf)).toEqual(['late_one', next.id]);
  });

  it(`names up to ${DIGEST_POWERS} late deliveries at once, and a drop between them loses none of them`, async () => {
    const before = await sendThenDrop(2);
    const late = Array.from({ length: DIGEST_POWERS }, (_, i) => `late_many_${i}`);
    await storeLate(late, before.storedAtMs);
    const first = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': before.last });
    const some = await first.waitFor(3);
    first.close();
    const again = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': some[2]?.id as string });
    await again.waitFor(DIGEST_POWERS - 3);
    await sleep(600);
    again.close();
    const all = [...some.slice(0, 3), ...deliveries(again.events)].map(idOf);
    expect(all.sort()).toEqual([...late].sort());
  });

  it(`sends the whole window again when more than ${DIGEST_POWERS} are late: repeats, never a gap`, async () => {
    const before = await sendThenDrop(2);
    const late = Array.from({ length: DIGEST_POWERS + 2 }, (_, i) => `late_burst_${i}`);
    await storeLate(late, before.storedAtMs);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': before.last });
    await resumed.waitFor(late.length + before.sent.length);
    await sleep(600);
    resumed.close();
    const got = deliveries(resumed.events).map(idOf);
    for (const id of [...late, ...before.sent]) expect(got.filter((g) => g === id)).toHaveLength(1);
  });

  it('an id of the first version (a bare cursor) still resumes after its key', async () => {
    const before = await sendThenDrop(1);
    const bare = Buffer.from(decodeStreamId(before.last)?.position as string, 'utf8').toString('base64url');
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': bare });
    expect(resumed.status).toBe(200);
    const next = await h.deliver('default');
    await resumed.waitFor(1);
    await sleep(600);
    resumed.close();
    expect(deliveries(resumed.events).map(idOf)).toEqual([next.id]);
  });
});

describe('GET /events resumed after a stream that was idle for longer than its look-back', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { lookBackMs: 1_000 } });
  });
  afterAll(() => h.close());

  // The window an id names follows the position at once: an id naming a window wider than the
  // look-back would be cut on resume, and what the client had could no longer be told (sent again).
  it('names a window no wider than the look-back, so resuming repeats nothing', async () => {
    const { token } = await h.token();
    const auth = { authorization: `Bearer ${token}` };
    const stream = await openSse(`${h.url}/events`, auth);
    await h.deliver('default');
    await stream.waitFor(1);
    await sleep(2_500);
    const after = await h.deliver('default');
    const events = await stream.waitFor(2);
    stream.close();
    const last = decodeStreamId(events[1]?.id as string);
    expect(Number(last?.position.slice(0, 13)) - Number(last?.lower.slice(0, 13))).toBeLessThanOrEqual(1_000);
    const resumed = await openSse(`${h.url}/events`, { ...auth, 'last-event-id': events[1]?.id as string });
    const next = await h.deliver('billing');
    await resumed.waitFor(1);
    await sleep(600);
    resumed.close();
    expect(deliveries(resumed.events).map(idOf)).toEqual([next.id]);
    expect(idOf(events[1] as SseEvent)).toBe(after.id);
  });
});
