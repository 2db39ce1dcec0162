import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEventsHandler } from '../../core/reader/events.js';
import { DELIVERIES_BY_TIME, TOKENS_TABLE } from '../../core/stores/tables.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse } from '../helpers/sse.js';
import type { StallingStore } from '../helpers/stalling-store.js';

// GET /events when DynamoDB hangs as the stream opens. Before, its opening had no deadline: a hung call was given up
// only by the SDK (3 s an attempt, then a retry on a fresh connection) and the events function runs for up to 15
// minutes. Now everything before the first byte has the reader's deadline (1 s here): at it the call is aborted, not
// retried, and the answer is 503 `unavailable` with Retry-After. The open stream is not bound by it.

const ORIGIN = 'https://app.example';
const HANG = 20_000;
const BUDGET = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const expectUnavailable = (status: number, headers: Record<string, string | undefined>, text: string): void => {
  expect(status).toBe(503);
  expect(headers['retry-after']).toBe('5');
  expect(JSON.parse(text).error.code).toBe('unavailable');
  expect(text).not.toMatch(/hookwarden-|Exception|Abort|deadline|\bat .+:\d+|byTime|dynamo/i);
  expect(headers['content-type'] ?? '').not.toContain('text/event-stream');
};

describe('the opening of GET /events when DynamoDB hangs (local server, production, a 1 s budget)', () => {
  let h: ReaderHarness;
  let stalls: StallingStore;
  let token: string;

  beforeAll(async () => {
    h = await startReaderHarness({
      env: { NODE_ENV: 'production', CORS_ORIGINS: ORIGIN },
      settings: {
        requestBudgetMs: BUDGET,
        apiRateLimit: { limit: 10_000, windowSeconds: 60 },
        streamRateLimit: { limit: 1_000, windowSeconds: 600 },
      },
      // Every request looks its token up in the store.
      tokenCacheMs: 0,
      stallable: true,
    });
    stalls = h.stalls as StallingStore;
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  afterEach(() => stalls.release());

  const open = async (headers: Record<string, string> = {}, query = '') => {
    const res = await fetch(`${h.url}/events${query}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
      signal: AbortSignal.timeout(HANG),
    });
    return { status: res.status, headers: Object.fromEntries(res.headers), text: res.status === 200 ? '' : await res.text(), res };
  };

  it.each([
    ['the token lookup', 'GetItem', () => TOKENS_TABLE.localName],
    ['the per-token counts', 'UpdateItem', () => h.config.tables.rateLimits],
    ['the first read of the index', 'Query', () => h.config.tables.deliveries],
  ])(
    'a hang in %s is 503 unavailable with Retry-After at the deadline; the call is aborted, not retried, and the next stream opens',
    async (_what, operation, table) => {
      const [heldBefore, abandonedBefore] = [stalls.held(), stalls.abandoned()];
      stalls.stall(operation, { when: (input) => input.TableName === table() });
      const refused = await open({ origin: ORIGIN });
      expectUnavailable(refused.status, refused.headers, refused.text);
      expect(refused.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(stalls.held() - heldBefore).toBe(1);
      for (let i = 0; i < 100 && stalls.abandoned() - abandonedBefore < 1; i++) await sleep(50);
      expect(stalls.abandoned() - abandonedBefore).toBe(1);
      stalls.release();
      const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
      expect(stream.status).toBe(200);
      stream.close();
    },
  );

  it('a hang in the resume of a Last-Event-ID is 503 unavailable too', async () => {
    const first = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    const d = await h.deliver('default');
    const [event] = await first.waitFor(1);
    first.close();
    expect(JSON.parse(event?.data ?? '{}').id).toBe(d.id);
    const heldBefore = stalls.held();
    stalls.stall('Query', { when: (input) => input.IndexName === DELIVERIES_BY_TIME.name });
    const refused = await open({ 'last-event-id': event?.id as string });
    expectUnavailable(refused.status, refused.headers, refused.text);
    expect(stalls.held() - heldBefore).toBe(1);
  });

  it('the open stream outlives the deadline: it still sends deliveries and keeps reading after it', async () => {
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    // Past the deadline and its late answer: a stream still under the opening's deadline would have had its reads aborted.
    await sleep(BUDGET + 1_500);
    const d = await h.deliver('billing');
    const [event] = await stream.waitFor(1);
    stream.close();
    expect(JSON.parse(event?.data ?? '{}').id).toBe(d.id);
  });

  it('a stream that opens only after the deadline (work the abort did not reach) is closed unsent: 503, and it reads no more', async () => {
    // The first read's answer arrives, then is held past the deadline inside the SDK's stack, where the abort does not reach.
    let slowed = 0;
    let queries = 0;
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        // Only this request's reads (?source=billing): a stream of an earlier test may still be polling.
        if (context.commandName !== 'QueryCommand' || !JSON.stringify(args.input).includes('"billing"')) return next(args);
        queries += 1;
        const result = await next(args);
        if (slowed === 0) {
          slowed += 1;
          await sleep(BUDGET + 200);
        }
        return result;
      },
      { step: 'deserialize', name: 'slowFirstQuery' },
    );
    try {
      const refused = await open({}, '?source=billing');
      expect(slowed).toBe(1);
      expectUnavailable(refused.status, refused.headers, refused.text);
      const after = queries;
      // A stream handed back late would go on polling (every 200 ms here) with nobody reading it.
      await sleep(1_000);
      expect(queries).toBe(after);
    } finally {
      h.client.middlewareStack.remove('slowFirstQuery');
    }
  });
});

describe('GET /events refused at its deadline, under a stream window of one', () => {
  let h: ReaderHarness;
  let stalls: StallingStore;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({
      settings: { requestBudgetMs: BUDGET, streamRateLimit: { limit: 1, windowSeconds: 600 } },
      stallable: true,
    });
    stalls = h.stalls as StallingStore;
  });
  afterAll(() => h.close());
  afterEach(() => stalls.release());

  /** Opens a stream and reports its status, then closes it unless told to keep it. */
  const opened = async (keep = false) => {
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    if (!keep) stream.close();
    return stream;
  };

  // The count is given back after the deadline's abort: under the request's aborted signal the give-back failed at once.
  it('a stream whose first read hangs past the deadline is not counted: the one stream the token may open still opens', async () => {
    token = (await h.token()).token;
    stalls.stall('Query', { when: (input) => input.TableName === h.config.tables.deliveries });
    expect((await opened()).status).toBe(503);
    stalls.release();
    const stream = await opened(true);
    expect(stream.status).toBe(200);
    expect((await opened()).status).toBe(429);
    stream.close();
  });

  it('a stream that opens only after the deadline is not counted either', async () => {
    token = (await h.token()).token;
    let slowed = 0;
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'QueryCommand' && slowed === 0) {
          slowed += 1;
          await sleep(BUDGET + 200);
        }
        return result;
      },
      { step: 'deserialize', name: 'slowFirstQuery' },
    );
    try {
      expect((await opened()).status).toBe(503);
    } finally {
      h.client.middlewareStack.remove('slowFirstQuery');
    }
    // Given back before the 503 (unless a slow machine let the late answer go first: then just after it).
    let stream = await opened(true);
    for (let i = 0; i < 50 && stream.status === 429; i++) {
      await sleep(100);
      stream = await opened(true);
    }
    expect(stream.status).toBe(200);
    stream.close();
  });
});

/** A Lambda response stream as the runtime gives it: the metadata prelude, then the body bytes. */
class ResponseStream extends Writable {
  metadata: { statusCode?: number; headers?: Record<string, string> } = {};
  body = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.body += chunk.toString('utf8');
    done();
  }
}
type StreamHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

describe('the Lambda streaming handler of GET /events (functions/events) under the same deadline', () => {
  let h: ReaderHarness;
  let token: string;
  let handler: StreamHandler;
  beforeAll(async () => {
    h = await startReaderHarness({ env: { NODE_ENV: 'production' }, tokenCacheMs: 0, stallable: true });
    token = (await h.token()).token;
    // A stand-in for the Lambda runtime's `awslambda` global, as test/infra/deliveries-bundle.test.ts has it.
    (globalThis as Record<string, unknown>).awslambda = {
      streamifyResponse: (fn: unknown) => fn,
      HttpResponseStream: {
        from: (stream: ResponseStream, metadata: ResponseStream['metadata']) => Object.assign(stream, { metadata }),
      },
    };
    handler = createEventsHandler(
      { ...h.reader, settings: { ...h.reader.settings, requestBudgetMs: BUDGET, streamMaxMs: 3_000 } },
      { streamifyResponse: true },
    ) as unknown as StreamHandler;
  });
  afterAll(async () => {
    delete (globalThis as Record<string, unknown>).awslambda;
    await h.close();
  });

  // The events function's timeout is 15 minutes: only the deadline stands between a hung store and a quarter hour.
  const context = () => localContext('hookwarden-events', 900_000);

  it('a hang in the first read is answered 503 unavailable at the deadline, as an ordinary (non-stream) answer', async () => {
    const stalls = h.stalls as StallingStore;
    stalls.stall('Query');
    try {
      const stream = new ResponseStream();
      const hang = sleep(HANG).then(() => 'hung' as const);
      const done = await Promise.race([handler(readerGet('/events', { authorization: `Bearer ${token}` }), stream, context()), hang]);
      expect(done).not.toBe('hung');
      expect(stream.metadata.statusCode).toBe(503);
      expect(stream.metadata.headers?.['Retry-After']).toBe('5');
      expect(JSON.stringify(stream.metadata.headers)).not.toContain('text/event-stream');
      expect(JSON.parse(stream.body).error.code).toBe('unavailable');
      expect(stalls.held()).toBe(1);
    } finally {
      stalls.release();
    }
  });

  it('an opening that keeps to the deadline streams through to the stream’s own end, past the deadline', async () => {
    const stream = new ResponseStream();
    const running = handler(readerGet('/events', { authorization: `Bearer ${token}` }), stream, context());
    await sleep(BUDGET + 1_500);
    const d = await h.deliver('default');
    await running;
    expect(stream.metadata).toMatchObject({ statusCode: 200, headers: expect.objectContaining({ 'Content-Type': 'text/event-stream' }) });
    expect(stream.body).toContain(`"id":"${d.id}"`);
    expect(stream.body).toMatch(/reconnect with Last-Event-ID to go on\n\n$/);
  });
});
