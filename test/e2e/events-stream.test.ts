import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsHandler } from '../../core/reader/events.js';
import { encodeCursor, seqCeiling } from '../../core/stores/delivery-feed.js';
import { decodeStreamId } from '../../core/reader/stream-position.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { readerGet } from '../helpers/proxy-event.js';
import { claimStored } from '../helpers/stored-delivery.js';
import { deliveryIdsOf, openSse, type SseEvent } from '../helpers/sse.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { localContext } from '../../local/http-adapter.js';

const ORIGIN = 'https://app.example.com';

/** Stores an empty delivery of `default` straight through `store` (its own clock decides the index position). */
const data = (e: SseEvent) =>
  JSON.parse(e.data) as { source: string; id: string; receivedAt: string; eventType: string | null; size: number };

describe('GET /events over real HTTP on dynalite', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({
      env: { CORS_ORIGINS: ORIGIN },
      settings: { keepAliveMs: 300, apiRateLimit: { limit: 10_000, windowSeconds: 60 } },
    });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('sends each accepted delivery as one event with a cursor id, and keep-alive comments', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['cache-control']).toBe('no-store');
    const sent = [await h.deliver('default', '{"type":"a.b"}'), await h.deliver('billing')];
    const events = await stream.waitFor(2);
    expect(events.map((e) => data(e).id)).toEqual(sent.map((d) => d.id));
    expect(data(events[0] as SseEvent)).toEqual({
      source: 'default',
      id: sent[0]?.id,
      receivedAt: expect.stringMatching(/Z$/),
      eventType: 'a.b',
      size: 14,
    });
    for (const e of events) expect(decodeStreamId(e.id as string)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(stream.comments).toContain('keep-alive');
    stream.close();
  });

  it('filters by ?source= and refuses a source outside the token (403 token_scope, no stream)', async () => {
    const stream = await openSse(`${h.url}/events?source=billing`, auth());
    await h.deliver('default');
    const b = await h.deliver('billing');
    const [only] = await stream.waitFor(1);
    expect(data(only as SseEvent).id).toBe(b.id);
    stream.close();
    const scoped = (await h.token({ sources: ['billing'] })).token;
    const refused = await openSse(`${h.url}/events?source=default`, { authorization: `Bearer ${scoped}` });
    expect(refused.status).toBe(403);
    await refused.ended;
    expect(JSON.parse(refused.raw()).error.code).toBe('token_scope');
  });

  it('resumes with Last-Event-ID under concurrent deliveries: every delivery exactly once across connections', async () => {
    const first = await openSse(`${h.url}/events`, auth());
    const wave = (n: number, tag: string) =>
      Promise.all(Array.from({ length: n }, (_, i) => h.deliver(i % 2 ? 'billing' : 'default', JSON.stringify({ type: tag, i }))));
    const ids = new Set<string>();
    for (const d of await wave(20, 'w1')) ids.add(d.id);
    await first.waitFor(5);
    // Disconnect mid-flow while the next wave is being stored.
    const second = wave(20, 'w2');
    first.close();
    const seen = first.events.filter((e) => e.event === 'delivery');
    const last = seen[seen.length - 1]?.id as string;
    for (const d of await second) ids.add(d.id);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': last });
    for (const d of await wave(10, 'w3')) ids.add(d.id);
    await resumed.waitFor(ids.size - seen.length);
    await new Promise((resolve) => setTimeout(resolve, 600)); // anything extra would show up by now
    resumed.close();
    const all = [...seen, ...resumed.events.filter((e) => e.event === 'delivery')].map((e) => data(e).id);
    expect(all.length).toBe(ids.size);
    expect(new Set(all)).toEqual(ids);
  });

  it('opens with its position as the last event id: a client dropped before any delivery resumes from it and misses nothing', async () => {
    const first = await openSse(`${h.url}/events`, auth());
    for (let i = 0; i < 50 && !/^retry: \d+\nid: /.test(first.raw()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const opening = /^retry: \d+\nid: ([A-Za-z0-9_-]+)\n\n/.exec(first.raw())?.[1];
    expect(opening, 'the opening block carries an id').toBeDefined();
    expect(decodeStreamId(opening as string)).toBeDefined();
    first.close();
    const sent = await Promise.all([h.deliver('default'), h.deliver('billing'), h.deliver('default')]);
    const resumed = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': opening as string });
    const events = await resumed.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 600)); // anything extra would show up by now
    resumed.close();
    expect(resumed.events.filter((e) => e.event === 'delivery')).toHaveLength(3);
    expect(new Set(events.map((e) => data(e).id))).toEqual(new Set(sent.map((d) => d.id)));
  });

  it('sends a delivery that became visible late (a slow writer) once, with an id that never moves the position back', async () => {
    const stream = await openSse(`${h.url}/events`, auth());
    // The stream must be older than the slow writer's lag (what was stored before it opened is not sent).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const [fresh] = await Promise.all([stream.waitFor(1), h.deliver('default')]);
    const position = (fresh[0] as SseEvent).id as string;
    // A writer whose store time is 1 s in the past: its sort key is behind what the stream sent.
    const slow = new DynamoDbDeliveryStore({ client: h.local.client, tableName: h.config.tables.deliveries, now: () => Date.now() - 1000 });
    await claimStored(slow, 'late_1');
    const events = await stream.waitFor(2);
    expect(data(events[1] as SseEvent).id).toBe('late_1');
    const after = decodeStreamId(events[1]?.id as string);
    expect(after?.position).toBe(decodeStreamId(position)?.position);
    expect(after?.sent.count).toBe((decodeStreamId(position)?.sent.count ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(stream.events.filter((e) => e.event === 'delivery')).toHaveLength(2);
    stream.close();
  });

  it('an invalid Last-Event-ID is 400 cursor_invalid, before any stream byte', async () => {
    const res = await openSse(`${h.url}/events`, { ...auth(), 'last-event-id': 'garbage' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('an Origin not in CORS_ORIGINS is 403 origin_denied: status and error body, no event-stream byte on the socket', async () => {
    const { host, port } = new URL(h.url);
    const bytes = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), host.split(':')[0] as string, () => {
        socket.write(
          `GET /events HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n`,
        );
      });
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    expect(bytes.startsWith('HTTP/1.1 403 ')).toBe(true);
    expect(bytes.toLowerCase()).not.toContain('text/event-stream');
    expect(bytes).not.toMatch(/\r\n\r\n[\s\S]*(event:|retry:)/);
    expect(JSON.parse(bytes.slice(bytes.indexOf('\r\n\r\n') + 4)).error.code).toBe('origin_denied');
    const allowed = await openSse(`${h.url}/events`, { ...auth(), origin: ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(allowed.headers.vary).toBe('Origin');
    allowed.close();
  });
});

describe('GET /events without the local notifier: the index query alone', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ notifier: false, settings: { streamMaxMs: 3_000 } });
  });
  afterAll(() => h.close());

  it('delivers by polling, and ends the stream by itself after its maximum duration', async () => {
    const token = (await h.token()).token;
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    const d = await h.deliver('default');
    const [event] = await stream.waitFor(1);
    expect(data(event as SseEvent).id).toBe(d.id);
    await stream.ended;
    expect(stream.comments.at(-1)).toMatch(/reconnect with Last-Event-ID/);
  });
});

describe('GET /events when its token stops being valid', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { keepAliveMs: 300 }, tokenCacheMs: 200 });
  });
  afterAll(() => h.close());

  const within = (ms: number, ended: Promise<void>) =>
    Promise.race([ended.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

  it('ends an open stream once its token is revoked: nothing stored after the revocation is sent', async () => {
    const { token, id } = await h.token();
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    const [, before] = await Promise.all([stream.waitFor(1), h.deliver('default')]);
    await h.tokens.revoke(id, Math.floor(Date.now() / 1000));
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the token cache (200 ms) and a poll
    await h.deliver('default');
    expect(await within(3_000, stream.ended), 'the stream ended').toBe(true);
    expect(stream.events.map((e) => data(e).id)).toEqual([before.id]);
    expect((await h.get('/events', token)).status).toBe(401);
  });

  it('ends an open stream once its token expires', async () => {
    const { token } = await h.token({ ttlSeconds: 2 });
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    expect(await within(4_000, stream.ended), 'the stream ended').toBe(true);
    const late = await h.deliver('default');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stream.events.map((e) => data(e).id)).not.toContain(late.id);
  });
});

describe('GET /events for a client that does not read', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ notifier: false, settings: { pollMs: 100 } });
    const store = new DynamoDbDeliveryStore({ client: h.local.client, tableName: h.config.tables.deliveries });
    for (let batch = 0; batch < 40; batch++)
      await Promise.all(Array.from({ length: 50 }, (_, i) => claimStored(store, `backlog_${batch}_${i}`)));
  });
  afterAll(() => h.close());

  it('reads no further than the client takes: a stream resumed from the start of time holds one page at most, not the backlog', async () => {
    const { token } = await h.token();
    const handler = createEventsHandler(h.reader);
    const event = readerGet('/events', { authorization: `Bearer ${token}`, 'last-event-id': encodeCursor(seqCeiling(0)) }, 'req-backlog');
    const answer = await handler(event, localContext('hookwarden-events'));
    expect(answer.statusCode).toBe(200);
    const body = answer.body as Readable;
    // 2,000 summaries of about 150 bytes wait in the index; the client never reads one.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // One index page (500 events of about 500 bytes: a summary and an id) past the high-water mark at most.
    expect(body.readableLength).toBeLessThan(body.readableHighWaterMark + 500 * 700);
    // Once it reads, the same stream sends the whole backlog, each delivery once.
    const ids = deliveryIdsOf(body);
    for (const end = Date.now() + 20_000; ids.length < 2000; await new Promise((resolve) => setTimeout(resolve, 50)))
      if (Date.now() > end) throw new Error(`only ${ids.length} of 2000 events`);
    body.destroy();
    expect(new Set(ids).size).toBe(2000);
  });
});

describe('GET /events: streams one token may open', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { streamRateLimit: { limit: 3, windowSeconds: 3600 } } });
  });
  afterAll(() => h.close());

  it('answers 429 rate_limited past the stream window, before any stream byte; lists and other tokens are unaffected', async () => {
    const a = await h.token();
    const b = await h.token();
    const open = await Promise.all([1, 2, 3].map(() => openSse(`${h.url}/events`, { authorization: `Bearer ${a.token}` })));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
    const refused = await h.get('/events', a.token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-policy')).toBe('"streams";q=3;w=3600');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await h.get('/deliveries', a.token)).status).toBe(200);
    const other = await openSse(`${h.url}/events`, { authorization: `Bearer ${b.token}` });
    expect(other.status).toBe(200);
    for (const stream of [...open, other]) stream.close();
  });

  it('a refused request (a bad Last-Event-ID) does not count against the window', async () => {
    const { token } = await h.token();
    for (let i = 0; i < 4; i++) expect((await h.get('/events', token, { 'last-event-id': 'garbage' })).status).toBe(400);
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    stream.close();
  });
});
