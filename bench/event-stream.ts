// The local event stream: events per second it delivers, and the delay from a webhook's 202 to its
// event on an open stream (p50, p99), as `npm start` serves it (notifier on, 250 ms settle).
import { LOCAL_SETTLE_MS } from '../local/index.js';
import { openSse } from '../test/helpers/sse.js';
import { startReaderHarness } from '../test/helpers/reader-harness.js';
import { print } from './measure.js';

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

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
};
