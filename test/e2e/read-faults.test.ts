import { followEvents } from '../../cli/consumers/events.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DELIVERIES_BY_TIME, TOKENS_TABLE } from '../../core/stores/tables.js';
import { openSse, type SseEvent } from '../helpers/sse.js';
import { failRequests, throttled, timedOut, type FailedRequests } from '../helpers/store-faults.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';

// The deliveries API and its event stream when DynamoDB fails part-way: faults injected into the harness's real
// client (2 attempts per call), in front of dynalite.

const data = (e: SseEvent) => JSON.parse(e.data) as { id: string };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks an error answer: its status and code, and nothing of the store in it. */
const expectClean = async (res: Response, status: number, code: string): Promise<void> => {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const text = await res.text();
  expect(JSON.parse(text).error.code).toBe(code);
  expect(text).not.toMatch(/hookwarden-|Exception|TimeoutError|throughput|\bat .+:\d+|byTime|dynamo/i);
};

describe('the deliveries API when DynamoDB fails (production)', () => {
  let h: ReaderHarness;
  let token: string;
  let queries: FailedRequests;
  let gets: FailedRequests;
  let tokenGets: FailedRequests;
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startReaderHarness({
      env: { NODE_ENV: 'production' },
      settings: { apiRateLimit: { limit: 10_000, windowSeconds: 60 } },
      tokenCacheMs: 0,
    });
    token = (await h.token()).token;
    for (let i = 0; i < 5; i++) {
      ids.push((await h.deliver('default', JSON.stringify({ i }))).id);
      await sleep(3);
    }
    queries = failRequests(h.client, 'QueryCommand', { when: (input) => input.IndexName === DELIVERIES_BY_TIME.name });
    gets = failRequests(h.client, 'GetItemCommand', { when: (input) => input.TableName === h.config.tables.deliveries, error: timedOut });
    tokenGets = failRequests(h.client, 'GetItemCommand', { when: (input) => input.TableName === TOKENS_TABLE.localName });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    queries.arm(0);
    gets.arm(0);
    tokenGets.arm(0);
  });

  it('a list whose Query stays throttled is 503 unavailable with Retry-After, naming nothing of the store', async () => {
    queries.arm(2);
    const res = await h.get('/deliveries', token);
    expect(res.headers.get('retry-after')).toBe('5');
    await expectClean(res, 503, 'unavailable');
  });

  it('a Query throttled once is retried by the SDK: the list is answered', async () => {
    queries.arm(1);
    const res = await h.get('/deliveries', token);
    expect(res.status).toBe(200);
    expect(queries.failed()).toBeGreaterThan(0);
  });

  it('a page that failed is read again with the same cursor: the pages skip and repeat nothing', async () => {
    const first = (await (await h.get('/deliveries?limit=2', token)).json()) as { deliveries: { id: string }[]; next: string };
    queries.arm(2);
    await expectClean(await h.get(`/deliveries?limit=2&cursor=${first.next}`, token), 503, 'unavailable');
    const second = (await (await h.get(`/deliveries?limit=2&cursor=${first.next}`, token)).json()) as {
      deliveries: { id: string }[];
      next: string;
    };
    const third = (await (await h.get(`/deliveries?limit=2&cursor=${second.next}`, token)).json()) as { deliveries: { id: string }[] };
    expect([...first.deliveries, ...second.deliveries, ...third.deliveries].map((d) => d.id)).toEqual([...ids].reverse());
  });

  it('a GetItem that times out on every attempt is 503 unavailable with Retry-After', async () => {
    gets.arm(2);
    const res = await h.get(`/deliveries/default/${ids[0]}`, token);
    expect(res.headers.get('retry-after')).toBe('5');
    await expectClean(res, 503, 'unavailable');
    expect((await h.get(`/deliveries/default/${ids[0]}`, token)).status).toBe(200);
  });

  it('a per-token window that cannot be counted is 503 unavailable (never admitted uncounted); a use that cannot be recorded is no failure', async () => {
    const counts = failRequests(h.client, 'UpdateItemCommand', {
      when: (input) => input.TableName === h.config.tables.rateLimits,
      times: 2,
    });
    await expectClean(await h.get('/deliveries', token), 503, 'unavailable');
    expect(counts.failed()).toBe(2);
    counts.arm(2);
    await expectClean(await h.get('/events', token), 503, 'unavailable');
    const fresh = await h.token();
    const touches = failRequests(h.client, 'UpdateItemCommand', { when: (input) => input.TableName === TOKENS_TABLE.localName, times: 2 });
    expect((await h.get('/deliveries', fresh.token)).status).toBe(200);
    for (let i = 0; i < 100 && touches.failed() < 2; i++) await sleep(50);
    expect(touches.failed()).toBe(2);
    expect((await h.get('/deliveries', fresh.token)).status).toBe(200);
  });

  it('a token lookup that fails is 503, never admitted and never 401; a revoked token stays out while it fails', async () => {
    const fresh = await h.token();
    tokenGets.arm(2);
    await expectClean(await h.get('/deliveries', fresh.token), 503, 'unavailable');
    // Admitted once (cached, tokenCacheMs 0: stale at once), then revoked while the store fails.
    expect((await h.get('/deliveries', fresh.token)).status).toBe(200);
    await h.tokens.revoke(fresh.id, Math.floor(Date.now() / 1000));
    tokenGets.arm(2);
    await expectClean(await h.get('/deliveries', fresh.token), 503, 'unavailable');
    tokenGets.arm(2);
    await expectClean(await h.get(`/deliveries/default/${ids[0]}`, fresh.token), 503, 'unavailable');
    tokenGets.arm(2);
    await expectClean(await h.get('/events', fresh.token), 503, 'unavailable');
    expect((await h.get('/deliveries', fresh.token)).status).toBe(401);
  });
});

describe('GET /events when DynamoDB fails', () => {
  let h: ReaderHarness;
  let token: string;
  let queries: FailedRequests;
  let tokenGets: FailedRequests;

  beforeAll(async () => {
    h = await startReaderHarness({ settings: { keepAliveMs: 300, apiRateLimit: { limit: 10_000, windowSeconds: 60 } }, tokenCacheMs: 150 });
    token = (await h.token()).token;
    queries = failRequests(h.client, 'QueryCommand', { when: (input) => input.IndexName === DELIVERIES_BY_TIME.name, error: throttled });
    tokenGets = failRequests(h.client, 'GetItemCommand', { when: (input) => input.TableName === TOKENS_TABLE.localName });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    queries.arm(0);
    tokenGets.arm(0);
  });
  const auth = (last?: string) => ({ authorization: `Bearer ${token}`, ...(last ? { 'last-event-id': last } : {}) });

  it('a stream whose index read fails mid-way ends; resuming with Last-Event-ID sends what came since, once, and nothing before', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    const [, a] = await Promise.all([stream.waitFor(1), h.deliver('default')]);
    queries.arm(1_000);
    await stream.ended;
    const b = await h.deliver('default');
    const c = await h.deliver('billing');
    queries.arm(0);
    const last = stream.events.at(-1)?.id as string;
    expect(stream.events.map((e) => data(e).id)).toEqual([a.id]);
    const resumed = await openSse(`${h.url}/events`, auth(last));
    expect(resumed.status).toBe(200);
    await resumed.waitFor(2);
    await sleep(600);
    resumed.close();
    expect(resumed.events.filter((e) => e.event === 'delivery').map((e) => data(e).id)).toEqual([b.id, c.id]);
  });

  // Before: 200 and the opening id, then the stream ended with nothing said. A client came back a second later
  // (a normal end), and again, each time counted against the token's stream window (30 per 14 min): a minute's
  // throttling locked the token out of /events for minutes after the store had recovered.
  it('a stream that cannot read the index when it opens is 503 unavailable with Retry-After, not a stream that ends at once', async () => {
    // Only this request's reads (?source=billing) fail: a stream of an earlier test may still be polling.
    failRequests(h.client, 'QueryCommand', {
      when: (input) => JSON.stringify(input.ExpressionAttributeValues).includes('"billing"'),
      times: 2,
    });
    const res = await h.get('/events?source=billing', token);
    expect(res.headers.get('retry-after')).toBe('5');
    await expectClean(res, 503, 'unavailable');
    const stream = await openSse(`${h.url}/events?source=billing`, auth());
    expect(stream.status).toBe(200);
    const d = await h.deliver('billing');
    expect((await stream.waitFor(1)).map((e) => data(e).id)).toEqual([d.id]);
    stream.close();
  });

  it('a stream whose token can no longer be checked ends: it does not go on with the token it checked before', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    await sleep(300);
    tokenGets.arm(1_000);
    const late = await h.deliver('default');
    await stream.ended;
    expect(stream.events.map((e) => data(e).id)).not.toContain(late.id);
  });
});

describe('GET /events refused for a store that cannot be read, under the stream window', () => {
  let h: ReaderHarness;
  let queries: FailedRequests;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { streamRateLimit: { limit: 2, windowSeconds: 600 } } });
    queries = failRequests(h.client, 'QueryCommand', { when: (input) => input.IndexName === DELIVERIES_BY_TIME.name });
  });
  afterAll(() => h.close());

  // A 503 opens no stream: counted, a client retrying through an outage used up its window and was refused (429)
  // for minutes after the store recovered.
  it('a 503 is not counted against the streams a token may open', async () => {
    const { token } = await h.token();
    for (let i = 0; i < 3; i++) {
      queries.arm(2);
      await expectClean(await h.get('/events', token), 503, 'unavailable');
    }
    const streams = await Promise.all([
      openSse(`${h.url}/events`, { authorization: `Bearer ${token}` }),
      openSse(`${h.url}/events`, { authorization: `Bearer ${token}` }),
    ]);
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    for (const s of streams) s.close();
    expect((await h.get('/events', token)).status).toBe(429);
  });
});

describe('tail and listen (followEvents) across a store failure', () => {
  let h: ReaderHarness;
  let queries: FailedRequests;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { keepAliveMs: 300, apiRateLimit: { limit: 10_000, windowSeconds: 60 } } });
    queries = failRequests(h.client, 'QueryCommand', { when: (input) => input.IndexName === DELIVERIES_BY_TIME.name });
  });
  afterAll(() => h.close());

  it('a stream that fails mid-way, then a 503 on reconnecting: every delivery handed over once, in order, none skipped', async () => {
    const { token } = await h.token();
    const got: string[] = [];
    const notices: string[] = [];
    const controller = new AbortController();
    let connected: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (connected = resolve));
    const following = followEvents(
      { url: h.url, token, where: 'the harness' },
      {
        signal: controller.signal,
        onNotice: (text) => {
          notices.push(text);
          if (text.startsWith('connected')) connected();
        },
        onDelivery: async (d) => void got.push(d.id),
      },
    );
    await open;
    const sent = [(await h.deliver('default')).id];
    for (let i = 0; i < 50 && got.length < 1; i++) await sleep(100);
    // The open stream's next read fails (both attempts), and so does the first read of the reconnection.
    queries.arm(4);
    for (let i = 0; i < 100 && queries.failed() < 2; i++) await sleep(50);
    sent.push((await h.deliver('default')).id, (await h.deliver('billing')).id);
    for (let i = 0; i < 300 && got.length < 3; i++) await sleep(100);
    await sleep(600);
    controller.abort();
    await following;
    expect(queries.failed()).toBe(4);
    expect(got).toEqual(sent);
    expect(notices.join('\n')).toMatch(/503 unavailable[\s\S]*reconnected to the harness \(resuming after the last delivery\)/);
  }, 60_000);
});
