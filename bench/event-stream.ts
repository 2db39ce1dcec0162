// The local event stream: events per second it delivers, and the delay from a webhook's 202 to its
// event on an open stream (p50, p99), as `npm start` serves it (notifier on, 250 ms settle).
import { READER_DEFAULTS } from '../core/reader/settings.js';
import { DynamoDbDeliveryStore } from '../core/stores/dynamodb-delivery-store.js';
import { LOCAL_SETTLE_MS } from '../local/index.js';
import { openSse } from '../test/helpers/sse.js';
import { startReaderHarness } from '../test/helpers/reader-harness.js';
import { claimStored } from '../test/helpers/stored-delivery.js';
import { print } from './measure.js';

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

const median = (values: readonly number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/**
 * The delay from a 202 to its event as on AWS (no wake-up on store: polls every second, 2 s settle), with an
 * empty window and with 3,000 deliveries in the stream's 30 s look-back (six index pages), alternated in one
 * process: a stream that re-read its window page by page made a delivery wait behind it.
 */
const windowDelay = async (): Promise<void> => {
  const h = await startReaderHarness({
    notifier: false,
    settings: { ...READER_DEFAULTS, apiRateLimit: { limit: 1_000_000, windowSeconds: 60 } },
  });
  try {
    const { token } = await h.token();
    const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries });
    const delayOf = async (stream: Awaited<ReturnType<typeof openSse>>): Promise<number> => {
      const expected = stream.events.filter((e) => e.event === 'delivery').length + 1;
      await h.deliver();
      const accepted = performance.now();
      await stream.waitFor(expected, 60_000);
      return performance.now() - accepted;
    };
    const empty: number[] = [];
    const full: number[] = [];
    for (let round = 0; round < 3; round++) {
      // A stream opened now has nothing in its window: it holds only what the stream sends.
      const quiet = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
      for (let i = 0; i < 4; i++) empty.push(await delayOf(quiet));
      quiet.close();
      const busy = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
      for (let batch = 0; batch < 60; batch++)
        await Promise.all(Array.from({ length: 50 }, (_, i) => claimStored(store, `w${round}_${batch}_${i}`)));
      await busy.waitFor(3_000, 60_000);
      for (let i = 0; i < 4; i++) full.push(await delayOf(busy));
      busy.close();
    }
    print(
      `  as on AWS (poll 1 s, settle 2 s), delay from 202 to the event: median ${median(empty).toFixed(0)} ms with an empty window, ${median(full).toFixed(0)} ms with 3,000 deliveries in the window: ${(median(full) / median(empty)).toFixed(2)}×`,
    );
  } finally {
    await h.close();
  }
};

/** Prints the stream's delay and throughput. */
export const eventStreamBenchmark = async (): Promise<void> => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const h = await startReaderHarness({
    settings: { settleMs: LOCAL_SETTLE_MS, pollMs: 1000, apiRateLimit: { limit: 1_000_000, windowSeconds: 60 } },
  });
  try {
    const { token } = await h.token();
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    const seen = (): number => stream.events.filter((e) => e.event === 'delivery').length;
    // Delay: one delivery at a time, from its 202 to its event.
    const delays: number[] = [];
    for (let i = 0; i < 60; i++) {
      const expected = seen() + 1;
      await h.deliver();
      const accepted = performance.now();
      await stream.waitFor(expected);
      delays.push(performance.now() - accepted);
    }
    delays.sort((a, b) => a - b);
    // Throughput: 400 deliveries, 20 in flight, counted as they arrive on the stream.
    const before = seen();
    const start = performance.now();
    const total = 400;
    for (let sent = 0; sent < total; sent += 20) await Promise.all(Array.from({ length: 20 }, () => h.deliver()));
    const postedMs = performance.now() - start;
    await stream.waitFor(before + total, 60_000);
    const streamedMs = performance.now() - start;
    stream.close();
    print('event stream (local server, dynalite; GET /events)');
    print(
      `  delay from 202 to the event (60 deliveries, one at a time): p50 ${percentile(delays, 50).toFixed(0)} ms, p99 ${percentile(delays, 99).toFixed(0)} ms (settle ${LOCAL_SETTLE_MS} ms)`,
    );
    print(
      `  ${total} deliveries, 20 in flight: accepted at ${((total / postedMs) * 1000).toFixed(0)}/s, all on the stream after ${streamedMs.toFixed(0)} ms: ${((total / streamedMs) * 1000).toFixed(0)} events/s`,
    );
  } finally {
    await h.close();
  }
  await windowDelay();
};
