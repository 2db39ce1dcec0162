import type { Readable } from 'node:stream';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { answeredByDeadline, holdDeadline, withDeadline } from '../deadline.js';
import { HttpError, StoreUnavailableError } from '../errors.js';
import { headerValuesFromEvent, singleValue } from '../headers.js';
import { tokenRateLimited } from '../middleware/read-token/index.js';
import type { RateDecision } from '../stores/rate-limit-store.js';
import { READER_LIMIT_KEYS } from '../stores/tables.js';
import { seqCeiling } from '../stores/delivery-feed.js';
import { READER_DEADLINE } from './deadline.js';
import { openStream, STREAM_PAGE_ITEMS } from './event-stream.js';
import { readerLateAnswer, readerMiddlewares, readerPreflight, type ReaderDependencies } from './pipeline.js';
import { requireConfiguredSource, sourcesAsked } from './routes.js';
import { readerStateOf } from './state.js';
import { decodeStreamId, openingAt, type StreamPosition } from './stream-position.js';

/** The stream's answer before its body: what the client sees first. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-store',
  // Proxies (nginx) must not hold events back.
  'X-Accel-Buffering': 'no',
};

/** Where a stream starts: the position `Last-Event-ID` names, else after what was stored before it opened. */
const startOf = (event: APIGatewayProxyEvent, nowMs: number, settleMs: number): StreamPosition => {
  const last = singleValue(headerValuesFromEvent(event, 'last-event-id'));
  if (last === undefined || last === '') return openingAt(seqCeiling(nowMs - settleMs));
  const at = last === null ? undefined : decodeStreamId(last);
  if (at === undefined) throw new HttpError(400, 'cursor_invalid', 'Last-Event-ID is not an event id this API gave out.');
  return at;
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
 * a refusal is an ordinary JSON error, never a stream. That opening has the
 * reader's deadline (`settings.requestBudgetMs`): a store that hangs is 503
 * `unavailable` with `Retry-After`; the open stream runs to `streamMaxMs`. Its
 * reads draw on the token's read budget (`settings.readBudget`): spent at the
 * opening, 429 `rate_limited` (policy `"reads"`); an open stream waits instead.
 */
export const createEventsHandler = (deps: ReaderDependencies, options: EventsHandlerOptions = {}): StreamingHandler => {
  const now = deps.now ?? Date.now;
  const events = async (event: APIGatewayProxyEvent, context: Context) => {
    if (event.httpMethod !== 'GET')
      throw new HttpError(405, 'method_not_allowed', 'Only GET is accepted here.', { headers: { Allow: 'GET, OPTIONS' } });
    const state = readerStateOf(context);
    const sources = sourcesAsked(event, state.token?.sources ?? []);
    requireConfiguredSource(event, deps);
    const start = startOf(event, now(), deps.settings.settleMs);
    const budget = state.token && deps.readBudget ? deps.readBudget.forToken(state.token.id) : undefined;
    // Last, so that only a stream about to open is counted.
    let counted: RateDecision | undefined;
    if (deps.rateLimiter && state.token) {
      // The read budget's charge for the first page beside the count (kept for it): one round trip before the first
      // byte, not two, under the opening's deadline. Spent: 429 and the stream not counted.
      const [count, charge] = await Promise.allSettled([
        deps.rateLimiter.hit(`${READER_LIMIT_KEYS.stream}${state.token.id}`, deps.settings.streamRateLimit, now()),
        budget?.take(STREAM_PAGE_ITEMS).then((items) => budget.giveBack(items)),
      ]);
      if (count.status === 'rejected') throw count.reason;
      counted = count.value;
      if (!counted.admitted)
        throw tokenRateLimited(counted, 'streams', state.token.id, 'Too many streams opened with this token; retry later.');
      if (charge.status === 'rejected') {
        await uncount(counted);
        throw charge.reason;
      }
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
      ...(budget ? { budget } : {}),
      ...(deps.notifier ? { notifier: deps.notifier } : {}),
    }).catch(async (error: unknown) => {
      await uncount(counted);
      throw error;
    });
    // The stream is open: from here on it runs to its own lifetime, its reads no longer bound by the opening's
    // deadline. Unless that deadline passed while it opened: the request is (about to be) answered 503 without it.
    if (!holdDeadline()) {
      body.destroy();
      await uncount(counted);
      throw new StoreUnavailableError(new Error("the event stream opened after its opening's deadline; it was closed unsent"));
    }
    return { statusCode: 200, headers: { ...EVENT_STREAM_HEADERS }, body };
  };
  /**
   * No stream opened (the store could not be read, the token's read budget was spent, or too late): not counted, or a client retrying through an outage
   * uses up its window. Under a deadline of its own, as long as the late answer waits: the opening's may have passed.
   */
  const uncount = async (counted: RateDecision | undefined): Promise<void> => {
    if (counted) await withDeadline(AbortSignal.timeout(READER_DEADLINE.lateAnswerMs), () => counted.undo()).catch(() => undefined);
  };
  // Middy's own early timeout (5 ms before the end, a 500) is off: the opening's deadline answers long before it.
  const reader = middy(events as never, { timeoutEarlyInMillis: 0 }).use(readerMiddlewares(deps)) as unknown as StreamingHandler;
  // One deadline for the opening (token lookup, per-token limits, the resume and the first read), as for the other
  // reader routes: at it, every DynamoDB call still running is aborted and the request answers 503 `unavailable`.
  // The stream itself is not bound by it (the handler holds the deadline once the stream is open).
  const opened = answeredByDeadline(
    deps.settings.requestBudgetMs,
    READER_DEADLINE,
    reader,
    readerLateAnswer(deps) as unknown as StreamingHandler,
  );
  // Lambda response streaming around the whole of it: the deadline's 503 goes out as an ordinary answer too.
  if (options.streamifyResponse)
    return middy(opened as never, { streamifyResponse: true, timeoutEarlyInMillis: 0 }) as unknown as StreamingHandler;
  const preflight = readerPreflight(deps) as unknown as StreamingHandler;
  return (event, context) => (event.httpMethod === 'OPTIONS' ? preflight(event, context) : opened(event, context));
};
