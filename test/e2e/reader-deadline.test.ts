import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { READER_DEADLINE } from '../../core/reader/deadline.js';
import { createDeliveriesHandler } from '../../core/reader/routes.js';
import { TOKENS_TABLE } from '../../core/stores/tables.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import type { StallingStore } from '../helpers/stalling-store.js';

// The deliveries API when DynamoDB hangs part-way through a request: the SDK's HTTP request stays open with no
// answer (a real HTTP hop in front of dynalite holds it). Before, nothing ended such a call in time (the client's
// requestTimeout only warns; the socket gives up after 300 s): the function ran into its own timeout and API
// Gateway answered 502/504. The budget here is 1 s; the fetches wait 20 s before calling it a hang.

const ORIGIN = 'https://app.example';
const HANG = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks the 503: `unavailable`, `Retry-After`, JSON, and nothing of the store in it. */
const expectUnavailable = async (res: Response): Promise<void> => {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const text = await res.text();
  expect(JSON.parse(text).error.code).toBe('unavailable');
  expect(text).not.toMatch(/hookwarden-|Exception|Abort|deadline|\bat .+:\d+|byTime|dynamo/i);
};

describe('the deliveries API when DynamoDB hangs part-way (production, a 1 s budget)', () => {
  let h: ReaderHarness;
  let stalls: StallingStore;
  let token: string;
  let id: string;

  beforeAll(async () => {
    h = await startReaderHarness({
      env: { NODE_ENV: 'production', CORS_ORIGINS: ORIGIN },
      settings: { requestBudgetMs: 1_000, apiRateLimit: { limit: 10_000, windowSeconds: 60 } },
      // Every request looks its token up in the store.
      tokenCacheMs: 0,
      stallable: true,
    });
    stalls = h.stalls as StallingStore;
    token = (await h.token()).token;
    id = (await h.deliver('default')).id;
  });
  afterAll(() => h.close());
  afterEach(() => stalls.release());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: AbortSignal.timeout(HANG) });

  it.each([
    ['the token lookup', 'GetItem', '/deliveries', () => TOKENS_TABLE.localName],
    ['the per-token count', 'UpdateItem', '/deliveries', () => h.config.tables.rateLimits],
    ['the index Query of the list', 'Query', '/deliveries', () => h.config.tables.deliveries],
    ['the read of one delivery', 'GetItem', '/deliveries/default/{id}', () => h.config.tables.deliveries],
  ])(
    'a hang in %s is 503 unavailable with Retry-After at the deadline; the call is aborted, not retried, and the next request is served',
    async (_what, operation, path, table) => {
      const url = path.replace('{id}', id);
      expect((await get(url)).status).toBe(200);
      const [heldBefore, abandonedBefore] = [stalls.held(), stalls.abandoned()];
      stalls.stall(operation, { when: (input) => input.TableName === table() });
      await expectUnavailable(await get(url));
      expect(stalls.held() - heldBefore).toBe(1);
      for (let i = 0; i < 100 && stalls.abandoned() - abandonedBefore < 1; i++) await sleep(50);
      expect(stalls.abandoned() - abandonedBefore).toBe(1);
      stalls.release();
      expect((await get(url)).status).toBe(200);
    },
  );

  it('a browser gets the 503 with its CORS headers, so it can read it', async () => {
    stalls.stall('Query');
    const res = await get('/deliveries', { origin: ORIGIN });
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    await expectUnavailable(res);
  });

  it('work that does not stop when its calls are aborted is answered 503 all the same, through the same middlewares', async () => {
    // A hang inside the SDK's middleware stack: the abort ends HTTP requests and the waits between retries, not this.
    let hung = 0;
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'QueryCommand' || hung > 0) return next(args);
        hung += 1;
        return new Promise<never>(() => undefined);
      },
      { step: 'deserialize', name: 'hangForever' },
    );
    try {
      const res = await get('/deliveries', { origin: ORIGIN });
      expect(hung).toBe(1);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await expectUnavailable(res);
    } finally {
      h.client.middlewareStack.remove('hangForever');
    }
    expect((await get('/deliveries')).status).toBe(200);
  });
});

describe('the reader function answers before its own timeout, whatever its budget', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ tokenCacheMs: 0, stallable: true });
  });
  afterAll(() => h.close());

  it('a function with 5 s left and the default 8 s budget answers 503 unavailable, with the margin to spare, before Lambda would stop it', async () => {
    const { token } = await h.token();
    const handler = createDeliveriesHandler({ ...h.reader, settings: { ...h.reader.settings, requestBudgetMs: READER_DEADLINE.budgetMs } });
    (h.stalls as StallingStore).stall('Query');
    const functionMs = 5_000;
    const context = localContext('hookwarden-reader', functionMs);
    // What Lambda does at the function's timeout: the invocation ends, and API Gateway answers 502/504 on its own.
    const lambdaTimeout = sleep(functionMs).then(() => 'the function timed out' as const);
    const result = await Promise.race([handler(readerGet('/deliveries', { authorization: `Bearer ${token}` }), context), lambdaTimeout]);
    expect(result).not.toBe('the function timed out');
    if (typeof result === 'string') return;
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error.code).toBe('unavailable');
    expect(result.headers?.['Retry-After']).toBe('5');
  });
});

describe("the reader's client ends a stuck attempt and retries it (as every client of createDynamoDbClient does)", () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    // An attempt may take 300 ms; the request has 10 s.
    h = await startReaderHarness({
      tokenCacheMs: 0,
      stallable: true,
      settings: { requestBudgetMs: 10_000 },
      client: { requestTimeoutMs: 300 },
    });
  });
  afterAll(() => h.close());

  // Before, the SDK only warned after requestTimeout and kept waiting: one stuck connection held the request
  // until its deadline (a 503) although the store answered a second attempt at once.
  it('a list whose first Query attempt hangs is answered 200 by the second attempt, well inside the deadline', async () => {
    const { token } = await h.token();
    const stalls = h.stalls as StallingStore;
    stalls.stall('Query', { times: 1 });
    const res = await fetch(`${h.url}/deliveries`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(HANG) });
    expect(res.status).toBe(200);
    expect(stalls.held()).toBe(1);
  });
});
