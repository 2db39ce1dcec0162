import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsHandler } from '../../core/reader/events.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import type { DeliveryFeed } from '../../core/stores/delivery-feed.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { deliveryIdsOf } from '../helpers/sse.js';
import { claimStored } from '../helpers/stored-delivery.js';

const WINDOW = 1_200;

const until = async (done: () => boolean, what: string, ms = 30_000): Promise<void> => {
  for (const end = Date.now() + ms; !done(); await new Promise((resolve) => setTimeout(resolve, 50)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};

describe('GET /events with more than a page in its window', () => {
  let h: ReaderHarness;
  // Every index read the stream makes: where it started, and the newest key it returned.
  const reads: { after: string; newest: string | undefined }[] = [];
  beforeAll(async () => {
    // The window (10 min) holds every delivery of the test; without the notifier only polls wake the stream.
    // A patient client: on a loaded 2-core machine a query that outlasts the 3 s attempt would end the stream itself.
    h = await startReaderHarness({
      notifier: false,
      settings: { pollMs: 100, lookBackMs: 600_000 },
      client: { requestTimeoutMs: 15_000, connectionTimeoutMs: 15_000 },
    });
    const feed = h.reader.feed as DeliveryFeed;
    const between = feed.between.bind(feed);
    feed.between = async (options) => {
      const page = await between(options);
      reads.push({ after: options.after, newest: page.entries.at(-1)?.seq });
      return page;
    };
  });
  afterAll(() => h.close());

  it('reads only past its position between reads of the whole window, and still sends a late delivery once', async () => {
    const { token } = await h.token();
    const openedAt = Date.now();
    const answer = await createEventsHandler(h.reader)(
      readerGet('/events', { authorization: `Bearer ${token}` }, 'req-window'),
      localContext('hookwarden-events'),
    );
    expect(answer.statusCode).toBe(200);
    const body = answer.body as Readable;
    const ids = deliveryIdsOf(body);
    const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries });
    for (let batch = 0; batch < WINDOW / 50; batch++)
      await Promise.all(Array.from({ length: 50 }, (_, i) => claimStored(store, `window_${batch}_${i}`)));
    await until(() => ids.length >= WINDOW, `${WINDOW} events`);

    // Quiet now: three whole windows' worth of time at least.
    const newestSent = reads.reduce((max, read) => (read.newest !== undefined && read.newest > max ? read.newest : max), '');
    const from = reads.length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const quiet = reads.slice(from);
    // Reads that start past everything sent: the new part only (the old stream read the window page by page, always).
    const pastWindow = quiet.filter((read) => read.after >= newestSent);
    // Reads that start at the window's floor: the whole window again, every `sweepMs` (500 ms here) at most.
    const sweeps = quiet.filter((read) => read.after < newestSent && read.newest !== undefined && read.newest <= newestSent);
    expect(pastWindow.length).toBeGreaterThan(0);
    expect(pastWindow.every((read) => read.newest === undefined)).toBe(true);
    expect(sweeps.length).toBeGreaterThan(0);

    // A delivery that becomes visible late, inside the window, is still sent once: by the next read of the whole window.
    // A writer whose clock is halfway between the stream's opening and now: its sort key is deep inside what the stream
    // sent (a fixed lag could fall before the opening on a fast machine, where nothing is to be sent).
    const slow = new DynamoDbDeliveryStore({
      client: h.client,
      tableName: h.config.tables.deliveries,
      now: () => Math.floor((openedAt + Date.now()) / 2),
    });
    await claimStored(slow, 'late_one');
    await until(() => ids.includes('late_one'), 'the late delivery');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    body.destroy();
    expect(ids.filter((id) => id === 'late_one')).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
