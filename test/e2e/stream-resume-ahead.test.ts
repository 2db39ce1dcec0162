import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEventsHandler } from '../../core/reader/events.js';
import { aheadOfClock, decodeStreamId, encodeStreamId, openingAt } from '../../core/reader/stream-position.js';
import { seqCeiling, seqFloor, seqOf } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse, type SseClient, type SseEvent } from '../helpers/sse.js';
import { claimStored } from '../helpers/stored-delivery.js';

/**
 * A Last-Event-ID whose position is ahead of the server's clock. Before, it was resumed as it stood: the stream
 * stayed silent until the clock reached it, and every delivery stored meanwhile (its sort key below the position)
 * was never sent. Now a position more than CLOCK_ALLOWANCE_MS ahead starts the stream from the clock with the
 * look-back's window sent again: repeats, never a gap, and a warning in the log.
 */

const idOf = (e: SseEvent) => (JSON.parse(e.data) as { id: string }).id;
const deliveries = (events: readonly SseEvent[]) => events.filter((e) => e.event === 'delivery');
const idsGiven = (stream: SseClient): string[] => [...stream.raw().matchAll(/^id: ([A-Za-z0-9_-]+)$/gm)].map((m) => m[1] as string);
const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const HOUR = 3_600_000;

/**
 * `sent` is the look-back's window sent again (deliveries of earlier tests among them), then what came after: each
 * once, `expected` among them in order, and the last of `expected` last.
 */
const expectWindowThen = (sent: readonly string[], expected: readonly string[]): void => {
  expect(new Set(sent).size).toBe(sent.length);
  expect(sent.filter((id) => expected.includes(id))).toEqual(expected);
  expect(sent[sent.length - 1]).toBe(expected[expected.length - 1]);
};

describe('GET /events resumed from an id ahead of the clock', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({
      settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 }, streamRateLimit: { limit: 1_000, windowSeconds: 60 } },
    });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  afterEach(() => vi.restoreAllMocks());
  const auth = () => ({ authorization: `Bearer ${token}` });

  /** Resumes with `id` and reads until `want` are all sent and nothing more comes for a while. */
  const resumeAndRead = async (
    id: string,
    want: () => Promise<string[]>,
  ): Promise<{ stream: SseClient; sent: string[]; expected: string[] }> => {
    const stream = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': id });
    expect(stream.status).toBe(200);
    const expected = await want();
    await stream.waitFor(expected.length, 20_000);
    await sleep(600); // anything extra would show up by now
    stream.close();
    return { stream, sent: deliveries(stream.events).map(idOf), expected };
  };

  it.each([
    ['an opening position an hour ahead', () => encodeStreamId(openingAt(seqCeiling(Date.now() + HOUR)))],
    [
      'a window and digest an hour ahead',
      () => json([2, seqFloor(Date.now() + HOUR - 30_000), seqOf(Date.now() + HOUR, 'default', 'x'), 0, '0.0.0.0.0.0.0.0']),
    ],
    ['the highest position an id can name', () => encodeStreamId(openingAt('9999999999999#~'))],
  ])('%s (made up): the look-back window and every delivery after it, each once; a warning without the id', async (_, forged) => {
    const before = await h.deliver('default');
    const warn = vi.spyOn(h.reader.telemetry.logger, 'warn');
    const id = forged();
    const { stream, sent, expected } = await resumeAndRead(id, async () => [before.id, (await h.deliver('billing')).id]);
    expectWindowThen(sent, expected);
    // The ids it gives from then on are at the clock, not ahead of it.
    for (const given of idsGiven(stream)) expect(aheadOfClock(decodeStreamId(given) ?? openingAt(''), Date.now())).toBe(false);
    const warned = warn.mock.calls.filter(([message]) => String(message).includes('ahead of the clock'));
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned)).not.toContain(id);
    expect(JSON.stringify(warned)).not.toContain(decodeStreamId(id)?.position);
  });

  it("an honest client's id given while the server’s clock was 5 minutes ahead: after the clock stepped back, nothing stored since is missed", async () => {
    const AHEAD = 5 * 60_000;
    // The server (and the writer) as they were before the clock stepped back. Without the per-token counts: the
    // rate limiter's windows, once counted ahead, refuse the token until the clock gets there again (left alone here).
    const { rateLimiter: _counts, ...reader } = h.reader;
    const aheadReader = createEventsHandler({ ...reader, now: () => Date.now() + AHEAD });
    const answer = await aheadReader(readerGet('/events', auth()), localContext('hookwarden-events', 900_000));
    expect(answer.statusCode).toBe(200);
    const body = answer.body as Readable;
    let text = '';
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => (text += chunk));
    const aheadStore = new DynamoDbDeliveryStore({
      client: h.client,
      tableName: h.config.tables.deliveries,
      now: () => Date.now() + AHEAD,
    });
    await claimStored(aheadStore, 'msg_stored_ahead');
    for (let i = 0; i < 200 && !text.includes('msg_stored_ahead'); i++) await sleep(50);
    body.destroy();
    const last = /event: delivery\nid: ([A-Za-z0-9_-]+)\ndata: .*msg_stored_ahead/.exec(text)?.[1];
    expect(last).toBeDefined();
    expect(aheadOfClock(decodeStreamId(last as string) as NonNullable<ReturnType<typeof decodeStreamId>>, Date.now())).toBe(true);

    // The clock stepped back: deliveries are stored with sort keys below the client's position, before and after it resumes.
    const meanwhile = await h.deliver('default');
    const warn = vi.spyOn(h.reader.telemetry.logger, 'warn');
    const { sent, expected } = await resumeAndRead(last as string, async () => [meanwhile.id, (await h.deliver('default')).id]);
    expectWindowThen(sent, expected);
    expect(warn.mock.calls.some(([message]) => String(message).includes('ahead of the clock'))).toBe(true);
  });

  it('an id this clock gave is resumed as it stands: nothing sent twice, no warning', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    const first = await h.deliver('default');
    const [event] = await stream.waitFor(1);
    stream.close();
    expect(idOf(event as SseEvent)).toBe(first.id);
    const warn = vi.spyOn(h.reader.telemetry.logger, 'warn');
    const { sent, expected } = await resumeAndRead(event?.id as string, async () => [(await h.deliver('default')).id]);
    expect(sent).toEqual(expected);
    expect(warn.mock.calls.some(([message]) => String(message).includes('ahead of the clock'))).toBe(false);
  });
});
