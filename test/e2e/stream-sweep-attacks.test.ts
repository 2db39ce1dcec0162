import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEventsHandler } from '../../core/reader/events.js';
import { decodeStreamId, encodeStreamId, openingAt } from '../../core/reader/stream-position.js';
import { seqCeiling, type DeliveryFeed, type FeedPage } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse, type SseClient, type SseEvent } from '../helpers/sse.js';

/**
 * Attacks on how an open GET /events stream reads its index (core/reader/events.ts): passes past the position,
 * sweeps of the whole look-back window every `sweepMs`, passes the client's buffer cuts short. The timelines are
 * made exact by hooks on the stream's own index reads (a write just before or just after a sweep reads) and by
 * a client that reads the body only when the test says so. Every test checks the README's promises: every
 * delivery once, none missed, a delivery visible up to look-back minus `sweepMs` late still sent once, a client
 * that stops reading holds at most one page beyond its buffer, resumes exact.
 */

const PAGE = 500;
const idOf = (e: SseEvent) => (JSON.parse(e.data) as { id: string }).id;
const deliveries = (events: readonly SseEvent[]) => events.filter((e) => e.event === 'delivery');
/** Every `id:` of the events the client has whole so far, id-only blocks included. */
const idsGiven = (stream: SseClient): string[] => {
  const raw = stream.raw();
  return [...raw.slice(0, raw.lastIndexOf('\n\n') + 2).matchAll(/^id: ([A-Za-z0-9_-]+)$/gm)].map((m) => m[1] as string);
};
const counts = (ids: readonly string[]) => {
  const map = new Map<string, number>();
  for (const id of ids) map.set(id, (map.get(id) ?? 0) + 1);
  return map;
};
const msOf = (seq: string) => Number(seq.slice(0, 13));

/** One index read of a stream: where it started, and the page it got. */
interface Read {
  /** When the read was sent (Date.now()). */
  readonly startedAt: number;
  readonly after: string;
  readonly upTo: string;
  readonly page: FeedPage;
}

/** The harness with every index read recorded, and hooks run just before and just after each. */
const hookedHarness = async (settings: Parameters<typeof startReaderHarness>[0]) => {
  const h = await startReaderHarness(settings);
  const reads: Read[] = [];
  const hooks: {
    before?: (options: { after: string; upTo: string }) => Promise<void>;
    after?: (read: Read) => Promise<void>;
  } = {};
  const feed = h.reader.feed as DeliveryFeed;
  const between = feed.between.bind(feed);
  feed.between = async (options) => {
    await hooks.before?.(options);
    const startedAt = Date.now();
    const page = await between(options);
    const read = { startedAt, after: options.after, upTo: options.upTo, page };
    reads.push(read);
    await hooks.after?.(read);
    return page;
  };
  return { h, reads, hooks };
};

/** Stores deliveries as writers whose clock reads `ms(i)` for the i-th one (its sort key's time), 50 at a time. */
const storeAt = async (h: ReaderHarness, ids: readonly string[], ms: (i: number) => number, source = 'default'): Promise<void> => {
  for (let start = 0; start < ids.length; start += 50) {
    await Promise.all(
      ids.slice(start, start + 50).map((deliveryId, k) => {
        const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries, now: () => ms(start + k) });
        const nowMs = Date.now();
        return store.claim(
          {
            source,
            deliveryId,
            receivedAt: nowMs,
            expiresAt: Math.floor(nowMs / 1000) + 3600,
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

const waitUntil = async (done: () => boolean, what: string, ms = 30_000): Promise<void> => {
  for (const end = Date.now() + ms; !done(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};

/** Reads a stream until it has `count` deliveries and nothing more comes for a while, then closes it. */
const drain = async (stream: SseClient, count: number, timeoutMs = 30_000): Promise<string[]> => {
  await stream.waitFor(count, timeoutMs);
  await sleep(800); // anything extra would show up by now
  stream.close();
  return deliveries(stream.events).map(idOf);
};

/**
 * A stream opened on the handler itself (no HTTP, no socket buffers): its body is read only when the test calls
 * `take()`, so how far the stream may read ahead of its client is exact.
 */
const heldStream = async (h: ReaderHarness, token: string, lastEventId?: string) => {
  const answer = await createEventsHandler(h.reader)(
    readerGet('/events', { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, 'req-held'),
    localContext('hookwarden-events'),
  );
  expect(answer.statusCode).toBe(200);
  const body = answer.body as Readable;
  body.setEncoding('utf8');
  let text = '';
  /** Every event taken so far: its delivery id (undefined for an id-only block) and its id line. */
  const taken: { delivery?: string; id?: string }[] = [];
  return {
    body,
    taken,
    /** Takes everything the body holds now (the stream may then read on). */
    take: (): void => {
      for (let chunk = body.read() as string | null; chunk !== null; chunk = body.read() as string | null) text += chunk;
      for (let at = text.indexOf('\n\n'); at >= 0; at = text.indexOf('\n\n')) {
        const block = text.slice(0, at);
        text = text.slice(at + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        const id = /^id: (.*)$/m.exec(block)?.[1];
        taken.push({ ...(data ? { delivery: (JSON.parse(data) as { id: string }).id } : {}), ...(id ? { id } : {}) });
      }
    },
    delivered: () => taken.flatMap((t) => (t.delivery ? [t.delivery] : [])),
  };
};

/**
 * A stream opened on the handler itself and read as fast as it comes (over HTTP a page of 500 fills the socket and
 * cuts the pass): everything it sent, as text, and when it ended.
 */
const flowingStream = async (h: ReaderHarness, token: string, requestId: string) => {
  const answer = await createEventsHandler(h.reader)(
    readerGet('/events', { authorization: `Bearer ${token}` }, requestId),
    localContext('hookwarden-events'),
  );
  expect(answer.statusCode).toBe(200);
  const body = answer.body as Readable;
  let text = '';
  body.setEncoding('utf8');
  body.on('data', (chunk: string) => (text += chunk));
  const ended = new Promise((resolve) => body.on('end', resolve));
  return { body, text: () => text, ended };
};

/** A 6 s look-back (sweeps every 500 ms), polled every 100 ms, with rate limits no test here reaches. */
const LOOK_BACK_6_S = {
  pollMs: 100,
  lookBackMs: 6_000,
  apiRateLimit: { limit: 10_000, windowSeconds: 60 },
  streamRateLimit: { limit: 1_000, windowSeconds: 60 },
};

/**
 * Runs `onFirstPage` once, when the stream's first page of the deliveries named `prefix…` comes back (one pass would
 * read the next page straight after it), then waits up to `waitMs` for the stream to end. Checks that no later read
 * returned any of them and that the client got exactly that one page; returns what the client got.
 */
const cutShortMidPass = async (
  hooked: { readonly reads: Read[]; readonly hooks: Awaited<ReturnType<typeof hookedHarness>>['hooks'] },
  stream: Awaited<ReturnType<typeof flowingStream>>,
  prefix: string,
  onFirstPage: () => Promise<unknown>,
  waitMs: number,
): Promise<string> => {
  const named = (read: Read): boolean => read.page.entries.some((e) => e.deliveryId.startsWith(prefix));
  let cutAt = -1;
  hooked.hooks.after = async (read) => {
    if (cutAt >= 0 || !named(read)) return;
    await onFirstPage();
    cutAt = hooked.reads.length;
  };
  await Promise.race([stream.ended, sleep(waitMs)]);
  stream.body.destroy();
  delete hooked.hooks.after;
  expect(cutAt).toBeGreaterThan(0);
  expect(hooked.reads.slice(cutAt).filter(named)).toEqual([]);
  expect(stream.text().match(/^event: delivery$/gm)?.length).toBe(PAGE);
  return stream.text();
};

describe('GET /events with late deliveries around its sweeps (look-back 1.5 s, sweeps every 250 ms)', () => {
  let h: ReaderHarness;
  let reads: Read[];
  let hooks: Awaited<ReturnType<typeof hookedHarness>>['hooks'];
  let token: string;
  const LOOK_BACK = 1_500;
  beforeAll(async () => {
    // pollMs 100, lookBackMs 1500: sweepMs = min(5 × 100, max(100, 1500 / 6)) = 250.
    ({ h, reads, hooks } = await hookedHarness({
      notifier: false,
      settings: { pollMs: 100, lookBackMs: LOOK_BACK, apiRateLimit: { limit: 10_000, windowSeconds: 60 } },
    }));
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  beforeEach(() => {
    delete hooks.before;
    delete hooks.after;
  });
  const auth = () => ({ authorization: `Bearer ${token}` });

  /** A stream old enough for its window to be the whole look-back, sent one delivery: its position is that delivery. */
  const settled = async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    await sleep(LOOK_BACK + 700);
    const first = await h.deliver('default');
    const [sent] = await stream.waitFor(1);
    const position = decodeStreamId(sent?.id as string)?.position as string;
    expect(position).toContain(first.id);
    return { stream, first, position };
  };

  it('a delivery that becomes visible just after a sweep read past it, and one just before a sweep reads: each sent once, by a sweep', async () => {
    const { stream, first, position } = await settled();
    let stored = 0;
    // Just after a sweep (a read from below the position) has answered: that sweep missed it, the passes after it start
    // past the position, so only the next sweep can find it.
    hooks.after = async (read) => {
      if (stored > 0 || read.after >= position) return;
      stored = 1;
      await storeAt(h, ['late_after_sweep'], () => msOf(position) - 300);
    };
    await waitUntil(() => deliveries(stream.events).length >= 2, 'the delivery stored just after a sweep');
    const afterSweep = reads.length;
    delete hooks.after;
    // Just before a sweep's query: that sweep finds it.
    let sweep = -1;
    hooks.before = async (options) => {
      if (stored > 1 || options.after >= position) return;
      stored = 2;
      sweep = reads.length;
      await storeAt(h, ['late_before_sweep'], () => msOf(position) - 600);
    };
    await waitUntil(() => deliveries(stream.events).length >= 3, 'the delivery stored just before a sweep');
    delete hooks.before;
    // Found by the very sweep it was stored ahead of; the one stored just after a sweep was not in that sweep's page.
    expect(reads[sweep]?.page.entries.map((e) => e.deliveryId)).toContain('late_before_sweep');
    expect(
      reads.slice(0, afterSweep).some((r) => r.after < position && r.page.entries.some((e) => e.deliveryId === 'late_after_sweep')),
    ).toBe(true);
    await sleep(600); // two sweeps at least
    const next = await h.deliver('billing');
    const got = await drain(stream, 4);
    expect(got).toEqual([first.id, 'late_after_sweep', 'late_before_sweep', next.id]);
  });

  it("a late delivery at the window's floor and one just above it are sent once; one a millisecond below it never", async () => {
    const { stream, first, position } = await settled();
    const floor = msOf(position) - LOOK_BACK;
    await storeAt(h, ['below_floor', 'at_floor', 'deep_in_window'], (i) => [floor - 1, floor, floor + 1][i] as number);
    await stream.waitFor(3);
    await sleep(600); // two sweeps at least
    const next = await h.deliver('billing');
    const got = await drain(stream, 4);
    expect(got).toEqual([first.id, 'at_floor', 'deep_in_window', next.id]);
    // Resumed from the id before the two late ones: the digest names them, nothing else is sent again.
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': deliveries(stream.events)[0]?.id as string });
    const after = await h.deliver('default');
    expect((await drain(resumed, 4)).sort()).toEqual(['at_floor', 'deep_in_window', next.id, after.id].sort());
  });

  it('a client whose buffer cut a pass short and who fell more than the look-back behind while late deliveries landed misses none of them', async () => {
    // Pages the client takes one at a time: two clusters of one page each, 1.6 s apart in store time, in the near future
    // (the stream reads each as soon as it is settled); a late delivery lands just behind the first one while the client
    // is slow, so it is behind the stream's position and only a sweep can find it. The stream must not pass more than
    // the look-back beyond it before a sweep has read it: it is about 0.3 s late, far inside the 1.25 s promised.
    const held = await heldStream(h, token);
    held.take();
    // Far enough ahead to store both clusters first: 5 s was too little once, on a loaded 2-core CI machine (4.9 s).
    const c0 = Date.now() + 8_000;
    const cluster = (k: number) => Array.from({ length: PAGE }, (_, i) => `c${k}_${String(i).padStart(3, '0')}`);
    const clusterAt = (k: number) => c0 + k * 1_600;
    // Written 25 to a request: a claim each (storeAt) took 15.7 s for the two clusters under a 4-worker run on 2 cores.
    for (const k of [0, 1]) await h.storeItems(cluster(k), (i) => clusterAt(k) + Math.floor(i / 100));
    expect(Date.now()).toBeLessThan(c0 - 500); // every cluster was stored before the stream could read any of it
    const readable = (k: number) => waitUntil(() => Date.now() > clusterAt(k) + 5 + 100 + 200, `cluster ${k} settled`);
    await readable(0);
    // The stream has read (a full page of) cluster 0 and stopped: its client has not taken it. The page may begin before
    // it (a sweep reads from the window's floor), so it need not end with cluster 0's last delivery.
    await waitUntil(() => reads.some((r) => r.page.entries.some((e) => e.deliveryId.startsWith('c0_'))), 'the read of cluster 0');
    const cut = reads.length;
    await storeAt(h, ['late_behind'], () => clusterAt(0) - 10);
    expect(Date.now() - (clusterAt(0) - 10)).toBeLessThan(LOOK_BACK - 250);
    await sleep(500);
    expect(reads.length).toBe(cut); // no read while the client holds a full buffer
    for (const k of [1]) {
      await readable(k);
      held.take();
      await waitUntil(() => held.body.readableLength >= held.body.readableHighWaterMark, `the read of cluster ${k}`);
    }
    // Then the client keeps up.
    for (const end = Date.now() + 1_200; Date.now() < end; await sleep(50)) held.take();
    held.body.destroy();
    const got = counts(held.delivered());
    expect(got.get('late_behind')).toBe(1);
    for (const k of [0, 1]) for (const id of cluster(k)) expect(got.get(id), id).toBe(1);
  });
});

describe('GET /events with a client that stops reading, then resumes from an id given in the middle of a pass', () => {
  let h: ReaderHarness;
  let reads: Read[];
  let token: string;
  beforeAll(async () => {
    // pollMs 100, lookBackMs 6000: sweepMs = min(500, max(100, 1000)) = 500.
    ({ h, reads } = await hookedHarness({ notifier: false, settings: LOOK_BACK_6_S }));
    token = (await h.token()).token;
  });
  afterAll(() => h.close());

  it.each([
    ['a sweep (a resumed stream reading its window)', 'sweep'],
    ['a pass past the position (a burst on an idle stream)', 'fresh'],
  ])('%s: one page beyond the buffer, then every delivery once across the resume', async (_, kind) => {
    const base = Date.now() - 4_000;
    const burst = Array.from({ length: 600 }, (_, i) => `${kind}_${String(i).padStart(4, '0')}`);
    let held: Awaited<ReturnType<typeof heldStream>>;
    const first = reads.length;
    if (kind === 'sweep') {
      await storeAt(h, burst, (i) => base + i * 2);
      held = await heldStream(h, token, encodeStreamId(openingAt(seqCeiling(base - 1))));
    } else {
      held = await heldStream(h, token);
      await sleep(300);
      held.take();
      // All in one millisecond, a little ahead: the stream reads them only once every one is stored.
      const at = Date.now() + 3_500;
      await h.storeItems(burst, () => at); // 25 to a request: a claim each can outlast the lead on a loaded machine
      expect(Date.now()).toBeLessThan(at - 500);
    }
    // The stream reads one page and then waits for its client.
    await waitUntil(() => held.body.readableLength >= held.body.readableHighWaterMark, 'a full buffer', 20_000);
    await sleep(1_000); // two sweeps' time
    // This stream's reads (another test's stream may still be finishing a read as it closes).
    const pages = reads.slice(first).filter((r) => r.page.entries.some((e) => e.deliveryId.startsWith(`${kind}_`)));
    expect(pages.length).toBeLessThanOrEqual(1);
    held.take();
    // The client handled 300 events of what it took, and dropped.
    const handled = held.taken.filter((t) => t.delivery).slice(0, 300);
    expect(handled.map((t) => t.delivery)).toEqual(burst.slice(0, 300));
    held.body.destroy();
    const last = handled.at(-1)?.id as string;
    // Late, while it was away: behind what it had (named by the digest) and behind what it never got.
    const lateMs = msOf(decodeStreamId(last)?.position as string);
    const late = [`${kind}_late_had`, `${kind}_late_not_yet`];
    await storeAt(h, late, (i) => (i === 0 ? lateMs - 100 : lateMs + 300));
    const resumed = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}`, 'last-event-id': last });
    const got = await drain(resumed, burst.length - 300 + 2, 30_000);
    expect(got.sort()).toEqual([...burst.slice(300), ...late].sort());
  });
});

describe('GET /events whose token is revoked in the middle of a pass', () => {
  let h: ReaderHarness;
  let reads: Read[];
  let hooks: Awaited<ReturnType<typeof hookedHarness>>['hooks'];
  beforeAll(async () => {
    // No token cache: a revocation is seen by the next check.
    ({ h, reads, hooks } = await hookedHarness({ notifier: false, tokenCacheMs: 0, settings: { pollMs: 100 } }));
  });
  afterAll(() => h.close());

  it('reads no further page once the token is revoked, and ends, though the client keeps up and the pass has more to read', async () => {
    const { token, id } = await h.token();
    const stream = await flowingStream(h, token, 'req-revoked');
    // Two pages, all in one millisecond a little ahead: one pass reads both, back to back.
    const burst = Array.from({ length: 600 }, (_, i) => `revoke_${String(i).padStart(4, '0')}`);
    const at = Date.now() + 3_500;
    await h.storeItems(burst, () => at); // 25 to a request: a claim each can outlast the lead on a loaded machine
    expect(Date.now()).toBeLessThan(at - 500);
    const text = await cutShortMidPass(
      { reads, hooks },
      stream,
      'revoke_',
      () => h.tokens.revoke(id, Math.floor(Date.now() / 1000)),
      8_000,
    );
    expect(text).toContain(': the read token was revoked or has expired');
  });
});

describe('GET /events whose lifetime ends in the middle of a pass', () => {
  // Long enough to open the stream and store a burst ahead of its time inside it on a loaded 2-core machine: 4.5 s, with
  // the burst 3 s after the opening, was too little once (a 4-worker run: the opening and the writes took 4.1 s).
  const MAX_MS = 8_000;
  let h: ReaderHarness;
  let reads: Read[];
  let hooks: Awaited<ReturnType<typeof hookedHarness>>['hooks'];
  beforeAll(async () => {
    ({ h, reads, hooks } = await hookedHarness({ notifier: false, settings: { pollMs: 100, streamMaxMs: MAX_MS } }));
  });
  afterAll(() => h.close());

  it('reads no further page once its lifetime is over, and ends, though the client keeps up and the pass has more to read', async () => {
    const { token } = await h.token();
    const openedAt = Date.now();
    const stream = await flowingStream(h, token, 'req-lifetime');
    // Two pages in one millisecond a little ahead, inside the stream's lifetime: one pass would read both, back to back.
    const burst = Array.from({ length: 600 }, (_, i) => `lifetime_${String(i).padStart(4, '0')}`);
    const at = openedAt + 5_000;
    await h.storeItems(burst, () => at); // 25 to a request: a claim each can outlast the lead on a loaded machine
    expect(Date.now()).toBeLessThan(at - 300);
    // The first page's answer comes back after the stream's lifetime is over. The stream's clock started before its
    // first read, which on a loaded machine can be well after this test's `openedAt`.
    expect(reads.length).toBeGreaterThan(0);
    const lifetimeOverAt = (reads[0]?.startedAt ?? 0) + MAX_MS + 300;
    const text = await cutShortMidPass(
      { reads, hooks },
      stream,
      'lifetime_',
      () => sleep(Math.max(0, lifetimeOverAt - Date.now())),
      15_000,
    );
    expect(text).toContain(': the stream ends here; reconnect with Last-Event-ID to go on');
  });
});

describe('GET /events under concurrent writes, busy sources and reconnects (look-back 6 s, sweeps every 500 ms)', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    ({ h } = await hookedHarness({
      notifier: false,
      settings: {
        pollMs: 100,
        lookBackMs: 6_000,
        apiRateLimit: { limit: 10_000, windowSeconds: 60 },
        streamRateLimit: { limit: 1_000, windowSeconds: 60 },
      },
    }));
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('a quiet ?source= among busy passes and sweeps of another source: its late delivery once, its next delivery, a resume that repeats nothing', async () => {
    const stream = await openSse(`${h.url}/events?source=billing`, auth());
    await sleep(300);
    const b1 = await h.deliver('billing');
    await stream.waitFor(1);
    // More than a page of another source, stored now: the billing stream sends none of them.
    const start = Date.now();
    await storeAt(
      h,
      Array.from({ length: 700 }, (_, i) => `busy_${i}`),
      (i) => start + Math.floor(i / 2),
    );
    // Late, among them, behind everything the stream has passed over.
    await storeAt(h, ['billing_late'], () => start + 50, 'billing');
    const b2 = await h.deliver('billing');
    const got = await drain(stream, 3);
    expect(got.sort()).toEqual([b1.id, 'billing_late', b2.id].sort());
    // A read cut at its 500 limit moved the position past the other source's deliveries, to the millisecond it stopped
    // in (an id names no delivery of a source the stream does not read), and the client was told.
    const positions = idsGiven(stream).map((id) => decodeStreamId(id)?.position ?? '');
    expect(positions.filter((at) => /^\d{13}$/.test(at) && Number(at) >= start).length).toBeGreaterThan(0);
    expect(positions.filter((at) => at.includes('#default#'))).toEqual([]);
    const resumed = await openSse(`${h.url}/events?source=billing`, { ...auth(), 'last-event-id': idsGiven(stream).at(-1) as string });
    const b3 = await h.deliver('billing');
    expect(await drain(resumed, 1)).toEqual([b3.id]);
  });

  it('deliveries and late writes go on across many passes and a reconnect: every one exactly once', async () => {
    const a = await openSse(`${h.url}/events`, auth());
    // Older than the late writers' lag: what was stored before a stream opened is not sent.
    await sleep(2_000);
    const stored: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        stored.push((await h.deliver(i % 2 ? 'billing' : 'default')).id);
        await sleep(20);
      }
    })();
    // Late writers: 0.3 to 1.5 s behind, well inside look-back minus sweepMs (5.5 s).
    const late = (async () => {
      for (let i = 0; writing; i++) {
        const id = `late_${i}`;
        await storeAt(h, [id], () => Date.now() - 300 - (i % 5) * 300);
        stored.push(id);
        await sleep(300);
      }
    })();
    await sleep(1_500);
    a.close();
    const aIds = deliveries(a.events).map(idOf);
    const last = idsGiven(a).at(-1) as string;
    await sleep(500); // away: writes go on
    const b = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last });
    await sleep(1_500);
    writing = false;
    await Promise.all([writer, late]);
    expect(stored.filter((id) => id.startsWith('late_')).length).toBeGreaterThan(5);
    await waitUntil(() => aIds.length + deliveries(b.events).length >= stored.length, 'every delivery', 20_000).catch(() => undefined);
    await sleep(1_000);
    b.close();
    const all = counts([...aIds, ...deliveries(b.events).map(idOf)]);
    const wrong = stored.filter((id) => all.get(id) !== 1).map((id) => `${id}×${all.get(id) ?? 0}`);
    expect(wrong).toEqual([]);
    expect([...all.keys()].filter((id) => !stored.includes(id))).toEqual([]);
  });
});
