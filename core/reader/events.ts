import { Readable } from 'node:stream';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { HttpError } from '../errors.js';
import { headerValuesFromEvent, singleValue } from '../headers.js';
import { tokenRateLimited } from '../middleware/read-token/index.js';
import type { RateDecision } from '../stores/rate-limit-store.js';
import { READER_LIMIT_KEYS } from '../stores/tables.js';
import { decodeCursor, encodeCursor, parseSeq, seqCeiling, seqFloor, type DeliveryFeed } from '../stores/delivery-feed.js';
import type { Telemetry } from '../telemetry.js';
import { readerMiddlewares, readerPreflight, type DeliveryNotifier, type ReaderDependencies } from './pipeline.js';
import { deliverySummary, sourcesAsked } from './routes.js';
import type { ReaderSettings } from './settings.js';
import { readerStateOf } from './state.js';

/** Items one index query returns at most (before filtering). */
const QUERY_LIMIT = 500;

/** The stream's answer before its body: what the client sees first. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-store',
  // Proxies (nginx) must not hold events back.
  'X-Accel-Buffering': 'no',
};

/** Where a stream starts: after the `Last-Event-ID` cursor, else after what was stored before it opened. */
const startOf = (event: APIGatewayProxyEvent, nowMs: number, settleMs: number): string => {
  const last = singleValue(headerValuesFromEvent(event, 'last-event-id'));
  if (last === undefined || last === '') return seqCeiling(nowMs - settleMs);
  const seq = last === null ? undefined : decodeCursor(last);
  if (seq === undefined) throw new HttpError(400, 'cursor_invalid', 'Last-Event-ID is not an event id this API gave out.');
  return seq;
};

/** The time part of a sort key or bound (`seqFloor`, `seqCeiling` or a delivery's). */
const msOf = (seq: string): number => parseSeq(seq)?.storedAtMs ?? Number(seq.slice(0, 13));

interface StreamOptions {
  readonly feed: DeliveryFeed;
  readonly settings: ReaderSettings;
  readonly sources: readonly string[];
  readonly start: string;
  readonly now: () => number;
  readonly notifier?: DeliveryNotifier;
  readonly telemetry: Telemetry;
  /** Whether the stream's token is still live (a revocation reaches it through the token cache). */
  readonly tokenLive: () => Promise<boolean>;
  /** For the log line when the token stops being live. */
  readonly tokenId?: string;
}

/**
 * One open stream. Every `pollMs` (or sooner, when the local server says a
 * delivery was stored) it reads the index, oldest first, from `lookBackMs`
 * behind its position up to `settleMs` before now, and sends each delivery it
 * has not sent yet. An event's id is the stream's position after it (the
 * highest sort key sent), so resuming with `Last-Event-ID` never repeats one;
 * a delivery stored late (a slow writer, index lag) is still sent while it
 * falls inside the look-back window. Reads the index only while the client
 * keeps up (under the body's high-water mark, so at most one page more is
 * held for a client that stops reading). Ends by itself after `streamMaxMs`, and
 * as soon as its token is revoked or expires (checked before every read).
 * The first read is made before the stream is handed back: a store that cannot
 * be read then rejects (503 `unavailable`), rather than a stream that ends at once.
 */
const openStream = async (options: StreamOptions): Promise<Readable> => {
  const { feed, settings, now, sources } = options;
  const floor = options.start;
  let position = floor;
  let continueFrom: string | undefined;
  const sent = new Map<string, number>();
  const opened = now();
  let lastWrite = opened;
  let wake: (() => void) | undefined;
  // Set while the client has not taken what was already sent: its next read wakes the loop.
  let waitingForReader = false;
  const stream = new Readable({ read: () => (waitingForReader ? wake?.() : undefined) });
  const write = (text: string): void => {
    lastWrite = now();
    stream.push(text);
  };
  const unsubscribe = options.notifier?.subscribe(() => {
    // A delivery was just stored: look once it has settled.
    setTimeout(() => wake?.(), settings.settleMs + 5).unref?.();
  });

  const poll = async (): Promise<void> => {
    const cutoff = now() - settings.settleMs;
    const lowest = seqFloor(msOf(position) - settings.lookBackMs);
    const after = continueFrom ?? (lowest > floor ? lowest : floor);
    const page = await feed.between({ sources, after, upTo: seqCeiling(cutoff), limit: QUERY_LIMIT, nowSeconds: Math.floor(now() / 1000) });
    continueFrom = page.next;
    for (const entry of page.entries) {
      if (entry.seq <= floor || sent.has(entry.seq)) continue;
      sent.set(entry.seq, msOf(entry.seq));
      if (entry.seq > position) position = entry.seq;
      write(`event: delivery\nid: ${encodeCursor(position)}\ndata: ${JSON.stringify(deliverySummary(entry))}\n\n`);
    }
    const forgetBefore = msOf(position) - settings.lookBackMs - 1;
    for (const [seq, ms] of sent) if (ms < forgetBefore) sent.delete(seq);
  };

  // Tells EventSource-like clients how soon to come back, sends the headers at once, and
  // gives the opening position as the last event id: a client dropped before its first
  // delivery resumes from here too, so nothing stored meanwhile is missed.
  write(`retry: 1000\nid: ${encodeCursor(position)}\n\n`);
  try {
    await poll();
  } catch (error) {
    unsubscribe?.();
    stream.destroy();
    throw error;
  }
  let firstRead = true;

  const run = async (): Promise<void> => {
    try {
      while (!stream.destroyed && now() - opened < settings.streamMaxMs) {
        if (!(await options.tokenLive())) {
          options.telemetry.logger.warn('event stream ended: the read token was revoked or has expired', { tokenId: options.tokenId });
          if (!stream.destroyed) write(': the read token was revoked or has expired\n\n');
          return;
        }
        // A client that reads slower than deliveries come (or not at all) is sent no more than the
        // buffer holds: the index is read for it again once it has taken that.
        waitingForReader = stream.readableLength >= stream.readableHighWaterMark;
        if (!waitingForReader && !firstRead) await poll();
        firstRead = false;
        if (now() - lastWrite >= settings.keepAliveMs) write(': keep-alive\n\n');
        const untilKeepAlive = settings.keepAliveMs - (now() - lastWrite);
        const untilEnd = settings.streamMaxMs - (now() - opened);
        const pause = continueFrom ? settings.pollMs : Math.max(0, Math.min(settings.pollMs, untilKeepAlive, untilEnd));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        waitingForReader = false;
      }
      if (!stream.destroyed) write(': the stream ends here; reconnect with Last-Event-ID to go on\n\n');
    } catch (error) {
      options.telemetry.logger.error('event stream stopped: the store could not be read', { error });
    } finally {
      unsubscribe?.();
      if (!stream.destroyed) stream.push(null);
    }
  };
  stream.on('close', () => wake?.());
  void run();
  return stream;
};

/** Options of {@link createEventsHandler}. */
export interface EventsHandlerOptions {
  /**
   * Wrap with Lambda response streaming (`awslambda.streamifyResponse`, through
   * Middy): for the deployed function. The local server reads the body stream itself.
   * @default false
   */
  readonly streamifyResponse?: boolean;
}

/** A handler whose 200 answer's body is a stream (the local server pipes it; Lambda streams it). */
export type StreamingHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<Omit<APIGatewayProxyResult, 'body'> & { body: string | Readable }>;

/**
 * `GET /events?source=`: server-sent events, one `delivery` event per stored
 * delivery (`id:` a cursor, `data:` source, id, receivedAt, eventType, size),
 * a comment line at least every `keepAliveMs`, resumable with `Last-Event-ID`.
 * Everything is checked before the first byte (origin, token, scope, cursor):
 * a refusal is an ordinary JSON error, never a stream.
 */
export const createEventsHandler = (deps: ReaderDependencies, options: EventsHandlerOptions = {}): StreamingHandler => {
  const now = deps.now ?? Date.now;
  const events = async (event: APIGatewayProxyEvent, context: Context) => {
    if (event.httpMethod !== 'GET')
      throw new HttpError(405, 'method_not_allowed', 'Only GET is accepted here.', { headers: { Allow: 'GET, OPTIONS' } });
    const state = readerStateOf(context);
    const sources = sourcesAsked(event, state.token?.sources ?? []);
    const start = startOf(event, now(), deps.settings.settleMs);
    // Last, so that only a stream about to open is counted.
    let counted: RateDecision | undefined;
    if (deps.rateLimiter && state.token) {
      counted = await deps.rateLimiter.hit(`${READER_LIMIT_KEYS.stream}${state.token.id}`, deps.settings.streamRateLimit, now());
      if (!counted.admitted)
        throw tokenRateLimited(counted, 'streams', state.token.id, 'Too many streams opened with this token; retry later.');
    }
    const body = await openStream({
      feed: deps.feed,
      settings: deps.settings,
      sources,
      start,
      now,
      telemetry: deps.telemetry,
      // Without the token middleware's check (never the case behind readerMiddlewares), nothing to recheck.
      tokenLive: state.tokenLive ?? (async () => true),
      ...(state.token ? { tokenId: state.token.id } : {}),
      ...(deps.notifier ? { notifier: deps.notifier } : {}),
    }).catch(async (error: unknown) => {
      // No stream opened (the store could not be read): not counted, or a client retrying through an outage uses up its window.
      await counted?.undo().catch(() => undefined);
      throw error;
    });
    return { statusCode: 200, headers: { ...EVENT_STREAM_HEADERS }, body };
  };
  const reader = middy(events as never, { streamifyResponse: options.streamifyResponse ?? false }).use(
    readerMiddlewares(deps),
  ) as unknown as StreamingHandler;
  if (options.streamifyResponse) return reader;
  const preflight = readerPreflight(deps) as unknown as StreamingHandler;
  return (event, context) => (event.httpMethod === 'OPTIONS' ? preflight(event, context) : reader(event, context));
};
