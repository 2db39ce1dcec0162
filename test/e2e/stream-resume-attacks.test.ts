import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeStreamId, DIGEST_POWERS, encodeStreamId, openingAt } from '../../core/reader/stream-position.js';
import { seqCeiling, seqOf } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse, type SseClient, type SseEvent } from '../helpers/sse.js';

/**
 * Attacks on the resumable event id of GET /events (core/reader/stream-position.ts): hostile ids,
 * ids carried across filters, tokens and expiries, concurrent resumes, windows larger than one read.
 * Every test here checks the README's promise for a resumed stream: none missed, none twice unless
 * more than DIGEST_POWERS arrived late in one window (or a delivery the client had expired, or
 * another ?source=), and no stream ever shows a delivery outside its token's sources.
 */

const idOf = (e: SseEvent) => (JSON.parse(e.data) as { id: string }).id;
const sourceOf = (e: SseEvent) => (JSON.parse(e.data) as { source: string }).source;
const deliveries = (events: readonly SseEvent[]) => events.filter((e) => e.event === 'delivery');
const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Every `id:` the stream has given so far, an id-only block (the opening one) included. */
const idsGiven = (stream: SseClient): string[] => [...stream.raw().matchAll(/^id: ([A-Za-z0-9_-]+)$/gm)].map((m) => m[1] as string);

/** Stores deliveries as a writer whose clock reads `ms(i)` for the i-th one (its sort key's time), in parallel batches. */
const storeAt = async (
  h: ReaderHarness,
  ids: readonly string[],
  ms: (i: number) => number,
  options: { source?: string; expiresAt?: number } = {},
): Promise<void> => {
  for (let start = 0; start < ids.length; start += 50) {
    await Promise.all(
      ids.slice(start, start + 50).map((deliveryId, k) => {
        const i = start + k;
        const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries, now: () => ms(i) });
        const nowMs = Date.now();
        return store.claim(
          {
            source: options.source ?? 'default',
            deliveryId,
            receivedAt: nowMs,
            expiresAt: options.expiresAt ?? Math.floor(nowMs / 1000) + 3600,
            headers: {},
            body: Buffer.from('{}'),
            clientIp: '127.0.0.1',
          },
          { nowSeconds: Math.floor(nowMs / 1000) },
        );
      }),
    );
  }
};

/** Reads a stream until it has `count` deliveries and nothing more comes for a while, then closes it. */
const drain = async (stream: SseClient, count: number, timeoutMs = 30_000): Promise<string[]> => {
  await stream.waitFor(count, timeoutMs);
  await sleep(800); // anything extra would show up by now
  stream.close();
  return deliveries(stream.events).map(idOf);
};

/** Resolves once the stream has sent delivery `id` (rejects after `timeoutMs`). */
const until = async (stream: SseClient, id: string, timeoutMs = 20_000): Promise<void> => {
  for (const started = Date.now(); !deliveries(stream.events).some((e) => idOf(e) === id); await sleep(50))
    if (Date.now() - started > timeoutMs) throw new Error(`${id} not sent after ${timeoutMs} ms:\n${stream.raw().slice(-2000)}`);
};

const counts = (ids: readonly string[]) => {
  const map = new Map<string, number>();
  for (const id of ids) map.set(id, (map.get(id) ?? 0) + 1);
  return map;
};

describe('GET /events with hostile Last-Event-ID values', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({
      settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 }, streamRateLimit: { limit: 1_000, windowSeconds: 60 } },
    });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  const auth = () => ({ authorization: `Bearer ${token}` });
  const sums = (n: bigint) => Array.from({ length: DIGEST_POWERS }, () => n.toString(36)).join('.');

  it.each([
    [
      'a window from the epoch to a year ago',
      () => json([2, '0000000000000', seqOf(Date.now() - 365 * 86_400_000, 'default', 'x'), 3, sums(5n)]),
    ],
    ['a window far in the future', () => json([2, '9999999990000', '9999999999999#~', 0, sums(0n)])],
    [
      'a count of ten million on a real window',
      () => json([2, seqCeiling(Date.now() - 20_000), seqOf(Date.now() - 5_000, 'default', 'x'), 10_000_000, sums(7n)]),
    ],
    [
      'sums that name nothing',
      () => json([2, seqCeiling(Date.now() - 20_000), seqOf(Date.now() - 5_000, 'default', 'x'), 2, sums(123_456_789n)]),
    ],
    [
      'a position of another source',
      () => json([2, seqCeiling(Date.now() - 20_000), seqOf(Date.now() - 5_000, 'zz', '\u0000"'), 0, sums(0n)]),
    ],
  ])('%s: a stream or a 400, never a 5xx, and the token streams as before afterwards', async (_, id) => {
    const text = id();
    const stream = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': text });
    expect([200, 400]).toContain(stream.status);
    stream.close();
    const fresh = await openSse(`${h.url}/events`, auth());
    const d = await h.deliver('default');
    expect(await drain(fresh, 1)).toEqual([d.id]);
  });

  it('a window forged wider than the look-back is cut to it: nothing below the look-back is sent', async () => {
    // 600 deliveries a minute before the forged position: inside the forged window, outside the look-back.
    const base = Date.now() - 120_000;
    await storeAt(
      h,
      Array.from({ length: 600 }, (_, i) => `old_${i}`),
      (i) => base + i,
    );
    const position = seqOf(base + 60_000, 'default', 'forged');
    const forged = json([2, '0000000000000', position, 0, sums(0n)]);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': forged });
    expect(resumed.status).toBe(200);
    const d = await h.deliver('default');
    await until(resumed, d.id);
    resumed.close();
    // The window the stream gives back is the look-back behind the position, not the forged one.
    expect(decodeStreamId(idsGiven(resumed)[0] as string)?.lower).toBe(String(base + 60_000 - 30_000));
    expect(
      deliveries(resumed.events)
        .map(idOf)
        .filter((id) => id.startsWith('old_')),
    ).toEqual([]);
  });
});

describe('GET /events resumed with an id from another filter, another token, or past an expiry', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({
      settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 }, streamRateLimit: { limit: 1_000, windowSeconds: 60 } },
    });
  });
  afterAll(() => h.close());

  /** A stream of `path` that was sent `fresh` deliveries (alternately default and billing) and dropped. */
  const sendThenDrop = async (token: string, path: string, sources: readonly string[]) => {
    const stream = await openSse(`${h.url}${path}`, { authorization: `Bearer ${token}` });
    await sleep(1500);
    const stored = [];
    for (const source of sources) stored.push({ source, id: (await h.deliver(source)).id });
    const wanted = stored.filter((d) => path === '/events' || path.endsWith(`=${d.source}`));
    const sent = await stream.waitFor(wanted.length);
    stream.close();
    const last = sent[sent.length - 1]?.id as string;
    return { last, stored, sent: sent.map(idOf), storedAtMs: Number(decodeStreamId(last)?.position.slice(0, 13)) };
  };

  it('an id from an all-sources stream, resumed by a token scoped to billing, shows billing only, and misses none of it', async () => {
    const all = (await h.token()).token;
    const scoped = (await h.token({ sources: ['billing'] })).token;
    const before = await sendThenDrop(all, '/events', ['default', 'billing', 'default']);
    await storeAt(h, ['late_default'], () => before.storedAtMs - 400);
    await storeAt(h, ['late_billing'], () => before.storedAtMs - 300, { source: 'billing' });
    const resumed = await openSse(`${h.url}/events`, { authorization: `Bearer ${scoped}`, 'last-event-id': before.last });
    expect(resumed.status).toBe(200);
    const next = await h.deliver('billing');
    await h.deliver('default');
    const got = await drain(resumed, 2);
    expect(deliveries(resumed.events).every((e) => sourceOf(e) === 'billing')).toBe(true);
    expect(got).toContain('late_billing');
    expect(got).toContain(next.id);
    expect(got).not.toContain('late_default');
    for (const [, n] of counts(got)) expect(n).toBe(1);
  });

  it("an id from a ?source=billing stream resumed on every source sends the other source's deliveries of its window, each once, and repeats no billing", async () => {
    const token = (await h.token()).token;
    const before = await sendThenDrop(token, '/events?source=billing', ['default', 'billing', 'default', 'billing']);
    expect(before.sent).toHaveLength(2);
    const resumed = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}`, 'last-event-id': before.last });
    const next = await h.deliver('billing');
    // The two default deliveries of the window were never sent to this client: they are, once; the billing ones are not repeated.
    const got = await drain(resumed, 3);
    const defaults = before.stored.filter((d) => d.source === 'default').map((d) => d.id);
    expect(got.sort()).toEqual([...defaults, next.id].sort());
  });

  it('an id from an all-sources stream resumed with ?source=billing misses no billing delivery after it and shows no other source', async () => {
    const token = (await h.token()).token;
    const before = await sendThenDrop(token, '/events', ['billing', 'default', 'billing']);
    await storeAt(h, ['late_b2'], () => before.storedAtMs - 400, { source: 'billing' });
    const resumed = await openSse(`${h.url}/events?source=billing`, { authorization: `Bearer ${token}`, 'last-event-id': before.last });
    const next = await h.deliver('billing');
    await h.deliver('default');
    // The window may be sent again (the digest counts default deliveries this filter cannot see): repeats, never a gap.
    const got = await drain(resumed, 2);
    expect(got).toContain('late_b2');
    expect(got).toContain(next.id);
    expect(deliveries(resumed.events).every((e) => sourceOf(e) === 'billing')).toBe(true);
  });

  it('an id whose window held a delivery that has since expired: the window is sent again, the late one included, nothing missed', async () => {
    const token = (await h.token()).token;
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    await sleep(1500);
    const keep = await h.deliver('default');
    // Expires 10 s from now: time enough to be sent on a slow machine first.
    const expiresAt = Math.floor(Date.now() / 1000) + 10;
    await storeAt(h, ['short_lived'], () => Date.now(), { expiresAt });
    const sent = await stream.waitFor(2);
    stream.close();
    expect(sent.map(idOf).sort()).toEqual([keep.id, 'short_lived'].sort());
    const last = sent[1]?.id as string;
    const storedAtMs = Number(decodeStreamId(last)?.position.slice(0, 13));
    await storeAt(h, ['late_after_expiry'], () => storedAtMs - 300);
    while (Date.now() <= (expiresAt + 1) * 1000) await sleep(200); // short_lived has expired
    const resumed = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}`, 'last-event-id': last });
    const next = await h.deliver('billing');
    const got = await drain(resumed, 2);
    expect(got).toContain('late_after_expiry');
    expect(got).toContain(next.id);
    expect(got).not.toContain('short_lived');
  });
});

describe('GET /events resumed while deliveries keep coming', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({
      settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 }, streamRateLimit: { limit: 1_000, windowSeconds: 60 } },
    });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('two streams resumed from one id each send the late delivery and everything after it, once', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    await sleep(1500);
    await h.deliver('default');
    await h.deliver('billing');
    const sent = await stream.waitFor(2);
    stream.close();
    const last = sent[1]?.id as string;
    const storedAtMs = Number(decodeStreamId(last)?.position.slice(0, 13));
    await storeAt(h, ['late_twice_0', 'late_twice_1'], (i) => storedAtMs - 400 + i);
    const [a, b] = await Promise.all([
      openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last }),
      openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last }),
    ]);
    const next = await h.deliver('default');
    const expected = ['late_twice_0', 'late_twice_1', next.id].sort();
    const [gotA, gotB] = await Promise.all([drain(a as SseClient, 3), drain(b as SseClient, 3)]);
    expect(gotA.sort()).toEqual(expected);
    expect(gotB.sort()).toEqual(expected);
  });

  it('the opening id of a resumed stream does not count the late deliveries it is about to send: a client dropped right after it gets them on the next resume', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    await sleep(1500);
    await h.deliver('default');
    const sent = await stream.waitFor(1);
    stream.close();
    const last = sent[0]?.id as string;
    const storedAtMs = Number(decodeStreamId(last)?.position.slice(0, 13));
    await storeAt(h, ['late_open_0', 'late_open_1'], (i) => storedAtMs - 400 + i);
    const first = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last });
    await first.waitFor(2);
    first.close();
    // The client kept only the opening block: the two late deliveries after it never reached it.
    const opening = idsGiven(first)[0] as string;
    expect(decodeStreamId(opening)?.sent.count).toBe(1);
    const again = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': opening });
    const next = await h.deliver('billing');
    expect((await drain(again, 3)).sort()).toEqual(['late_open_0', 'late_open_1', next.id].sort());
  });

  it('resumed from an id in the middle of a burst, while the burst and late writes go on: every delivery once across both connections', async () => {
    const first = await openSse(`${h.url}/events`, auth());
    await sleep(1500);
    const wave = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => h.deliver(i % 2 ? 'billing' : 'default')));
    const stored = new Set<string>((await wave(30)).map((d) => d.id));
    const seen = await first.waitFor(12);
    // Drop in the middle of the burst, keeping what had arrived by then, and resume from the last id that came with it.
    first.close();
    const had = deliveries(first.events);
    const last = had[had.length - 1]?.id as string;
    const storedAtMs = Number(decodeStreamId(last)?.position.slice(0, 13));
    const second = wave(20);
    const late = Array.from({ length: DIGEST_POWERS - 2 }, (_, i) => `late_mid_${i}`);
    await storeAt(h, late, (i) => storedAtMs - 300 - i);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last });
    for (const d of await second) stored.add(d.id);
    for (const id of late) stored.add(id);
    await resumed.waitFor(stored.size - had.length);
    await sleep(800);
    resumed.close();
    const all = [...had, ...deliveries(resumed.events)].map(idOf);
    expect(seen.length).toBeGreaterThanOrEqual(12);
    expect(all.length).toBe(stored.size);
    expect(new Set(all)).toEqual(stored);
  });
});

describe('GET /events with windows larger than one index read (QUERY_LIMIT 500)', () => {
  // A store of its own per test: each fills one look-back window with more than a page.
  let h: ReaderHarness;
  let token: string;
  beforeEach(async () => {
    h = await startReaderHarness({
      settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 }, streamRateLimit: { limit: 1_000, windowSeconds: 60 } },
    });
    token = (await h.token()).token;
  });
  afterEach(() => h.close());
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('ids given in the middle and at the end of a multi-page read each resume exactly, late deliveries named over a window of more than 500', async () => {
    const base = Date.now() - 20_000;
    const burst = Array.from({ length: 1_100 }, (_, i) => `page_${String(i).padStart(4, '0')}`);
    // One key per 10 ms: the whole burst inside one look-back (30 s) and in id order.
    await storeAt(h, burst, (i) => base + 1_000 + i * 10);
    // The opening id of a stream opened just before the burst: the stream reads it in three pages.
    const opening = encodeStreamId(openingAt(seqCeiling(base)));
    const stream = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': opening });
    const events = await stream.waitFor(burst.length, 60_000);
    await sleep(800);
    stream.close();
    expect(deliveries(stream.events).map(idOf)).toEqual(burst);
    // Late deliveries of the burst's first second, visible only now.
    const late = Array.from({ length: DIGEST_POWERS - 1 }, (_, i) => `late_page_${i}`);
    await storeAt(h, late, (i) => base + 1_000 + i * 10 + 5);
    for (const at of [250, 499, 500, 700, 1_100]) {
      const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': events[at - 1]?.id as string });
      const got = await drain(resumed, burst.length - at + late.length, 60_000);
      expect(got.sort(), `resumed after event ${at}`).toEqual([...burst.slice(at), ...late].sort());
    }
  });

  it('a window of more than 500 with more than 8 late: the whole window again, each delivery at least once and the rest once', async () => {
    const base = Date.now() - 20_000;
    const burst = Array.from({ length: 600 }, (_, i) => `many_${String(i).padStart(4, '0')}`);
    await storeAt(h, burst, (i) => base + 1_000 + i * 10);
    const stream = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': encodeStreamId(openingAt(seqCeiling(base))) });
    const events = await stream.waitFor(burst.length, 60_000);
    stream.close();
    const late = Array.from({ length: DIGEST_POWERS + 3 }, (_, i) => `late_many_${i}`);
    await storeAt(h, late, (i) => base + 1_000 + i * 10 + 5);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': events[549]?.id as string });
    const next = await h.deliver('billing');
    const got = await drain(resumed, burst.length + late.length + 1, 60_000);
    for (const id of [...burst, ...late, next.id])
      expect(
        got.filter((g) => g === id),
        id,
      ).toHaveLength(1);
  });

  it('a late delivery that becomes visible while an open stream pages through a large window is sent once', async () => {
    const base = Date.now() - 20_000;
    const burst = Array.from({ length: 1_200 }, (_, i) => `open_${String(i).padStart(4, '0')}`);
    await storeAt(h, burst, (i) => base + 1_000 + i * 10);
    const stream = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': encodeStreamId(openingAt(seqCeiling(base))) });
    await stream.waitFor(1, 60_000);
    // Behind the page the stream has read: found only when it reads its window again.
    await storeAt(h, ['late_open'], () => base + 1_000 + 5);
    const got = await drain(stream, burst.length + 1, 60_000);
    expect(got.filter((g) => g === 'late_open')).toHaveLength(1);
    expect(got.filter((g) => g !== 'late_open')).toEqual(burst);
    const last = idsGiven(stream).at(-1) as string;
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last });
    const next = await h.deliver('default');
    expect(await drain(resumed, 1)).toEqual([next.id]);
  });
});

describe('GET /events whose window moves during a multi-page read (a look-back of 2 s, a burst over 11 s)', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({
      settings: {
        lookBackMs: 2_000,
        apiRateLimit: { limit: 10_000, windowSeconds: 60 },
        streamRateLimit: { limit: 1_000, windowSeconds: 60 },
      },
    });
  });
  afterAll(() => h.close());

  // The window's floor rises with every event of the read: an id given in the middle of a page names the
  // window as it was at that event, and a late delivery is named on resume exactly when it is inside it.
  it('an id given in the middle of a page resumes exactly: late deliveries inside its window named, those below it not sent', async () => {
    const { token } = await h.token();
    const auth = { authorization: `Bearer ${token}` };
    const base = Date.now() - 30_000;
    const keyMs = (i: number) => base + 1_000 + i * 10;
    const burst = Array.from({ length: 1_100 }, (_, i) => `move_${String(i).padStart(4, '0')}`);
    await storeAt(h, burst, keyMs);
    const stream = await openSse(`${h.url}/events`, { ...auth, 'last-event-id': encodeStreamId(openingAt(seqCeiling(base))) });
    const events = await stream.waitFor(burst.length, 60_000);
    await sleep(800);
    stream.close();
    expect(deliveries(stream.events).map(idOf)).toEqual(burst);
    // Late: one just behind event 240, one just behind event 690.
    await storeAt(h, ['late_240', 'late_690'], (i) => keyMs(i === 0 ? 239 : 689) + 5);
    const resumeAfter = async (at: number) => {
      const window = decodeStreamId(events[at - 1]?.id as string);
      expect(Number(window?.position.slice(0, 13)) - Number(window?.lower.slice(0, 13))).toBeLessThanOrEqual(2_000);
      const resumed = await openSse(`${h.url}/events`, { ...auth, 'last-event-id': events[at - 1]?.id as string });
      return resumed;
    };
    const from250 = await resumeAfter(250);
    expect((await drain(from250, burst.length - 250 + 2, 60_000)).sort()).toEqual([...burst.slice(250), 'late_240', 'late_690'].sort());
    // From event 700 the window starts 2 s (200 events) back: late_240 is far below it, late_690 inside it.
    const from700 = await resumeAfter(700);
    expect((await drain(from700, burst.length - 700 + 1, 60_000)).sort()).toEqual([...burst.slice(700), 'late_690'].sort());
  });
});

describe('GET /events on a ?source= that is quiet while other sources are busy', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    // Polls as on AWS (once a second, no local wake-up); streams too short for one to read 2,600 deliveries (4 reads of 500);
    // a look-back of 1 s, so that one window (500 deliveries here) is one read.
    h = await startReaderHarness({
      notifier: false,
      settings: {
        pollMs: 1_000,
        streamMaxMs: 3_500,
        lookBackMs: 1_000,
        apiRateLimit: { limit: 10_000, windowSeconds: 60 },
        streamRateLimit: { limit: 1_000, windowSeconds: 60 },
      },
    });
  });
  afterAll(() => h.close());

  // A stream sends nothing while the index between its position and now holds only other sources; its position
  // must still move past what it has read, and the client must be given that position, or every stream (and
  // every resume) reads the same backlog from the start again and never reaches the next delivery of its source.
  it('reaches the next delivery of its source across reconnects, however many deliveries of other sources are in between', async () => {
    const { token } = await h.token();
    const auth = { authorization: `Bearer ${token}` };
    const t0 = Date.now() - 20_000;
    await storeAt(h, ['billing_1'], () => t0 + 100, { source: 'billing' });
    // Six reads of another source (a delivery every 2 ms over 5.2 s), then the next billing delivery.
    await storeAt(
      h,
      Array.from({ length: 2_600 }, (_, i) => `busy_${i}`),
      (i) => t0 + 200 + i * 2,
    );
    await storeAt(h, ['billing_2'], () => t0 + 6_000, { source: 'billing' });
    // The opening id of a billing stream opened at t0.
    let last = encodeStreamId(openingAt(seqCeiling(t0)));
    const got: string[] = [];
    for (let round = 0; round < 12 && !got.includes('billing_2'); round++) {
      const stream = await openSse(`${h.url}/events?source=billing`, { ...auth, 'last-event-id': last });
      expect(stream.status).toBe(200);
      await Promise.race([stream.ended, until(stream, 'billing_2', 30_000).catch(() => undefined)]);
      stream.close();
      got.push(...deliveries(stream.events).map(idOf));
      last = idsGiven(stream).at(-1) ?? last;
    }
    expect(got).toEqual(['billing_1', 'billing_2']);
  });
});
