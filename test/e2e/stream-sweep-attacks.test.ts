import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEventsHandler } from '../../core/reader/events.js';
import type { DeliveryFeed, FeedPage } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';

/**
 * Attacks on how an open GET /events stream reads its index (core/reader/events.ts): passes past the position,
 * sweeps of the whole look-back window every `sweepMs`, passes the client's buffer cuts short. The timelines are
 * made exact by hooks on the stream's own index reads (a write just before or just after a sweep reads) and by
 * a client that reads the body only when the test says so. Every test checks the README's promises: every
 * delivery once, none missed, a delivery visible up to look-back minus `sweepMs` late still sent once, a client
 * that stops reading holds at most one page beyond its buffer, resumes exact.
 */

const PAGE = 500;
const counts = (ids: readonly string[]) => {
  const map = new Map<string, number>();
  for (const id of ids) map.set(id, (map.get(id) ?? 0) + 1);
  return map;
};

/** One index read of a stream: where it started, and the page it got. */
interface Read {
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
    const page = await between(options);
    const read = { after: options.after, upTo: options.upTo, page };
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

describe('GET /events whose client is slow while late deliveries land (look-back 1.5 s, sweeps every 250 ms)', () => {
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

  it('a client whose buffer cut a pass short and who fell more than the look-back behind while late deliveries landed misses none of them', async () => {
    // Pages the client takes one at a time: two clusters of one page each, 1.6 s apart in store time, in the near future
    // (the stream reads each as soon as it is settled); a late delivery lands just behind the first one while the client
    // is slow, so it is behind the stream's position and only a sweep can find it. The stream must not pass more than
    // the look-back beyond it before a sweep has read it: it is about 0.3 s late, far inside the 1.25 s promised.
    const held = await heldStream(h, token);
    held.take();
    const c0 = Date.now() + 5_000;
    const cluster = (k: number) => Array.from({ length: PAGE }, (_, i) => `c${k}_${String(i).padStart(3, '0')}`);
    const clusterAt = (k: number) => c0 + k * 1_600;
    for (const k of [0, 1]) await storeAt(h, cluster(k), (i) => clusterAt(k) + Math.floor(i / 100));
    expect(Date.now()).toBeLessThan(c0 - 500); // every cluster was stored before the stream could read any of it
    const readable = (k: number) => waitUntil(() => Date.now() > clusterAt(k) + 5 + 100 + 200, `cluster ${k} settled`);
    await readable(0);
    // The stream has read cluster 0 (one full page) and stopped: its client has not taken it.
    await waitUntil(() => reads.some((r) => r.page.entries.at(-1)?.deliveryId === 'c0_499'), 'the read of cluster 0');
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
