import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeCursor } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { createDeliveriesHandler } from '../../core/reader/routes.js';
import { localContext } from '../../local/http-adapter.js';
import { readerGet } from '../helpers/proxy-event.js';
import { rawRequest } from '../helpers/raw-http.js';
import { countCalls } from '../helpers/harness.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';

const ORIGIN = 'https://app.example.com';

interface ListBody {
  deliveries: Array<{ source: string; id: string; receivedAt: string; eventType: string | null; size: number }>;
  next: string | null;
}

describe('GET /deliveries and GET /deliveries/{source}/{id} over real HTTP on dynalite', () => {
  let h: ReaderHarness;
  let all: string;
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startReaderHarness({
      env: { CORS_ORIGINS: ORIGIN },
      settings: { apiRateLimit: { limit: 1000, windowSeconds: 60 } },
      tokenCacheMs: 200,
    });
    all = (await h.token()).token;
    // Alternating sources, one at a time so that store order is send order.
    for (let i = 0; i < 7; i++) {
      const d = await h.deliver(i % 2 === 0 ? 'default' : 'billing', JSON.stringify({ type: `order.${i}`, i }));
      expect(d.status).toBe(202);
      ids.push(d.id);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  });
  afterAll(() => h.close());

  /** Stores a delivery straight into the table, for one no configured source could have sent, or a body no sender signs. */
  const storeDirectly = async (source: string, deliveryId: string, body: Buffer): Promise<void> => {
    const store = new DynamoDbDeliveryStore({ client: h.local.client, tableName: h.config.tables.deliveries });
    const now = Date.now();
    const nowSeconds = Math.floor(now / 1000);
    await store.claim(
      { source, deliveryId, receivedAt: now, expiresAt: nowSeconds + 600, headers: {}, body, clientIp: '127.0.0.1' },
      { nowSeconds },
    );
  };

  const list = async (query: string, token = all): Promise<ListBody> => {
    const res = await h.get(`/deliveries${query}`, token);
    expect(res.status).toBe(200);
    return (await res.json()) as ListBody;
  };

  it('lists newest first with ISO times, event types and sizes; pages with an opaque cursor until next is null', async () => {
    const first = await list('?limit=3');
    expect(first.deliveries.map((d) => d.id)).toEqual([ids[6], ids[5], ids[4]]);
    expect(first.deliveries[0]).toEqual({
      source: 'default',
      id: ids[6],
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      eventType: 'order.6',
      size: JSON.stringify({ type: 'order.6', i: 6 }).length,
    });
    expect(first.next).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await list(`?limit=3&cursor=${first.next}`);
    expect(second.deliveries.map((d) => d.id)).toEqual([ids[3], ids[2], ids[1]]);
    const third = await list(`?limit=3&cursor=${second.next}`);
    expect(third.deliveries.map((d) => d.id)).toEqual([ids[0]]);
    expect(third.next).toBeNull();
    expect((await list('')).deliveries).toHaveLength(7);
  });

  it('filters by source, across pages', async () => {
    const page = await list('?source=billing&limit=2');
    expect(page.deliveries.map((d) => d.id)).toEqual([ids[5], ids[3]]);
    const rest = await list(`?source=billing&limit=2&cursor=${page.next}`);
    expect(rest.deliveries.map((d) => d.id)).toEqual([ids[1]]);
  });

  it.each([
    ['?cursor=not-a-cursor!', 'cursor_invalid'],
    [`?cursor=${encodeCursor('hello')}`, 'cursor_invalid'],
    [`?cursor=${encodeCursor('0001700000000000#default#x')}=`, 'cursor_invalid'],
    ['?limit=0', 'limit_invalid'],
    ['?limit=101', 'limit_invalid'],
    ['?limit=ten', 'limit_invalid'],
    ['?source=Not%20A%20Source', 'source_invalid'],
  ])('%s is 400 %s in the error shape', async (query, code) => {
    const res = await h.get(`/deliveries${query}`, all);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
  });

  it.each([
    ['/deliveries?source=default&source=billing', 'source_invalid'],
    ['/deliveries?limit=1&limit=100', 'limit_invalid'],
    [`/deliveries?cursor=${encodeCursor('1700000000000#default#a')}&cursor=${encodeCursor('1700000000000#default#b')}`, 'cursor_invalid'],
    ['/events?source=default&source=billing', 'source_invalid'],
  ])('%s (a parameter given twice, which API Gateway reads as its last value) is 400 %s', async (path, code) => {
    const res = await h.get(path, all);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: { code, message: expect.stringMatching(/more than once/), requestId: expect.any(String) } });
  });

  it('a parameter repeated with the same value is that value', async () => {
    expect((await list('?source=billing&source=billing&limit=2&limit=2')).deliveries.map((d) => d.id)).toEqual([ids[5], ids[3]]);
  });

  it('queryStringParameters and multiValueQueryStringParameters that disagree (a front door of its own) are 400', async () => {
    const event = {
      ...readerGet('/deliveries', { authorization: `Bearer ${all}` }),
      queryStringParameters: { source: 'default' },
      multiValueQueryStringParameters: { source: ['billing'] },
    };
    const res = await createDeliveriesHandler(h.reader)(event, localContext('hookwarden-reader'));
    expect(res.statusCode).toBe(400);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('source_invalid');
  });

  it('?source= naming no configured source: 404 source_unknown for the list and the stream, unless it has stored deliveries', async () => {
    for (const path of ['/deliveries?source=defualt', '/events?source=defualt']) {
      const res = await h.get(path, all);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: 'source_unknown', message: 'No source of that name is configured.', requestId: expect.any(String) },
      });
      // The scope first: a token limited to other sources learns nothing of which names are configured.
      const scoped = await h.get(path, (await h.token({ sources: ['billing'] })).token);
      expect(scoped.status, path).toBe(403);
    }
    // A source taken out of the configuration still lists what it stored, until that expires.
    await storeDirectly('retired', 'old_1', Buffer.from('{}'));
    expect((await list('?source=retired')).deliveries.map((d) => d.id)).toEqual(['old_1']);
  });

  it('gets one delivery with its kept headers and UTF-8 body; 404 not_found otherwise', async () => {
    const res = await h.get(`/deliveries/default/${ids[0]}`, all);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ source: 'default', id: ids[0], eventType: 'order.0', body: JSON.stringify({ type: 'order.0', i: 0 }) });
    expect(body.bodyEncoding).toBeUndefined();
    expect(body.headers).toEqual(expect.objectContaining({ 'content-type': 'application/json' }));
    expect((await h.get(`/deliveries/billing/${ids[0]}`, all)).status).toBe(404);
    const missing = await h.get('/deliveries/default/nope', all);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  // DynamoDB refuses a partition key over 2,048 bytes with a ValidationException (a 500 here); dynalite counts
  // characters, not bytes, so the test checks that no lookup is sent for an id past 1,024 bytes.
  it('answers 404 for an id past 1,024 bytes without a lookup, however few characters it has', async () => {
    const lookups = vi.spyOn(h.reader.store, 'get');
    try {
      const wide = await h.get(`/deliveries/default/${encodeURIComponent('€'.repeat(700))}`, all);
      expect(wide.status).toBe(404);
      expect(lookups).not.toHaveBeenCalled();
      expect((await h.get(`/deliveries/default/${'a'.repeat(1024)}`, all)).status).toBe(404);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      lookups.mockRestore();
    }
  });

  it('gives a body that is not UTF-8 as base64 with bodyEncoding', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    await storeDirectly('default', 'bin_1', bytes);
    const body = (await (await h.get('/deliveries/default/bin_1', all)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ bodyEncoding: 'base64', body: bytes.toString('base64') });
  });

  it.each([
    ['control characters', Buffer.alloc(1024 * 1024, 0x01)],
    // Under the limit once escaped (5.9 MiB), past it in the result Lambda serializes, where each \u0001 is escaped again.
    ['control characters and 1.6% quotes', Buffer.from('\u0001'.repeat(1_031_800) + '"'.repeat(16_776), 'utf8')],
  ])("a signed 1 MiB body of %s (within the default limit): base64, so that Lambda's answer fits its 6 MB", async (_, bytes) => {
    // Valid UTF-8, but six bytes each in JSON (\u0001) and seven in the proxy result: as text the result was over
    // Lambda's 6,291,456 bytes, which Lambda does not return (API Gateway answers 502 instead).
    const sent = await h.deliver('default', bytes.toString('utf8'));
    expect(sent.status).toBe(202);
    const event = {
      ...readerGet('/deliveries/{source}/{id}', { authorization: `Bearer ${all}` }),
      pathParameters: { source: 'default', id: sent.id },
    };
    const result = await createDeliveriesHandler(h.reader)(event, localContext('hookwarden-reader'));
    expect(result.statusCode).toBe(200);
    expect(Buffer.byteLength(JSON.stringify(result), 'utf8')).toBeLessThanOrEqual(6 * 1024 * 1024);
    const res = await h.get(`/deliveries/default/${sent.id}`, all);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { body: string; bodyEncoding?: string };
    expect(body.bodyEncoding).toBe('base64');
    expect(Buffer.from(body.body, 'base64').equals(bytes)).toBe(true);
  });

  // With maxBodyBytes raised (up to 10 MiB), a body can be past Lambda's 6 MB answer even as base64 (4 bytes for 3): the
  // read was a 200 Lambda does not return (API Gateway's 502, for every read of it). Now 413 body_too_large, which says so.
  it.each([
    ['4.4 MiB: base64 within the answer', 4.4, 200],
    ['4.5 MiB: past it even as base64', 4.5, 413],
  ])('a body of %s (not UTF-8)', async (_, mebibytes, status) => {
    const bytes = Buffer.alloc(Math.round(mebibytes * 1024 * 1024), 0xff);
    const id = `large_${status}`;
    await storeDirectly('default', id, bytes);
    const event = {
      ...readerGet('/deliveries/{source}/{id}', { authorization: `Bearer ${all}` }),
      pathParameters: { source: 'default', id },
    };
    const result = await createDeliveriesHandler(h.reader)(event, localContext('hookwarden-reader'));
    expect(result.statusCode).toBe(status);
    expect(Buffer.byteLength(JSON.stringify(result), 'utf8')).toBeLessThanOrEqual(6 * 1024 * 1024);
    const res = await h.get(`/deliveries/default/${id}`, all);
    expect(res.status).toBe(status);
    if (status === 200) {
      const body = (await res.json()) as { body: string; bodyEncoding?: string };
      expect(body.bodyEncoding).toBe('base64');
      expect(Buffer.from(body.body, 'base64').equals(bytes)).toBe(true);
      return;
    }
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('body_too_large');
    expect(error.message).toContain(`${bytes.length} bytes`);
    expect(error.message).toMatch(/6 MB.*deliveries table.*hookwarden deliveries show <source> <id> --body/);
    // The list still names it, with its size.
    const listed = (await list('?limit=100')).deliveries.find((d) => d.id === id);
    expect(listed).toMatchObject({ size: bytes.length });
  });

  // A body larger than any answer was read whole, every part of it (and charged to the token's read budget), to be
  // answered 413. Its record gives its size: refused from that, one GetItem, no part read.
  it('a body larger than any answer (7 MiB, stored in parts): 413 from its record alone, no part read', async () => {
    // Random bytes: gzip leaves them their size, so the body is stored in parts (text of one letter fits one item).
    const bytes = randomBytes(7 * 1024 * 1024);
    await storeDirectly('default', 'huge_text', bytes);
    const calls = countCalls(h.client);
    const res = await h.get('/deliveries/default/huge_text', all);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
    const gets = calls.calls.filter((call) => call.command === 'GetItem' && call.table === h.config.tables.deliveries);
    expect(gets).toHaveLength(1);
  });

  it('a body whose text fits stays text, control characters and quotes included', async () => {
    const small = await h.deliver('default', '\u0001\u0002 "quoted"');
    const body = (await (await h.get(`/deliveries/default/${small.id}`, all)).json()) as { body: string; bodyEncoding?: string };
    expect(body.body).toBe('\u0001\u0002 "quoted"');
    expect(body.bodyEncoding).toBeUndefined();
  });

  it('a token scoped to some sources: 403 token_scope for another, and a list of its own sources only', async () => {
    const { token } = await h.token({ sources: ['billing'] });
    for (const path of ['/deliveries?source=default', `/deliveries/default/${ids[0]}`]) {
      const res = await h.get(path, token);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token_scope');
    }
    const own = await list('', token);
    expect(new Set(own.deliveries.map((d) => d.source))).toEqual(new Set(['billing']));
    expect((await h.get(`/deliveries/billing/${ids[1]}`, token)).status).toBe(200);
  });

  it.each([
    ['no Authorization', undefined, 'token_missing'],
    ['a Basic credential', 'Basic dXNlcjpwYXNz', 'token_missing'],
    ['a malformed token', 'Bearer hwk_short', 'token_invalid'],
    ['an unknown well-formed token', `Bearer hwk_${'A'.repeat(43)}`, 'token_invalid'],
  ])('%s is 401 %s with WWW-Authenticate', async (_label, authorization, code) => {
    const res = await fetch(`${h.url}/deliveries`, { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('an expired or revoked token is 401 token_invalid', async () => {
    const expired = await h.token({ ttlSeconds: 1 });
    const revoked = await h.token();
    expect((await h.get('/deliveries', revoked.token)).status).toBe(200);
    await h.tokens.revoke(revoked.id, Math.floor(Date.now() / 1000));
    await new Promise((resolve) => setTimeout(resolve, 2100));
    for (const token of [expired.token, revoked.token]) {
      const res = await h.get('/deliveries', token);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token_invalid');
    }
  });

  it('an Origin not in CORS_ORIGINS is 403 origin_denied; an allowed one is echoed with Vary: Origin, never a wildcard', async () => {
    const denied = await h.get('/deliveries', all, { origin: 'https://evil.example' });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('origin_denied');
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await h.get('/deliveries', all, { origin: ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('vary')).toBe('Origin');
    expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
    const twice = await rawRequest(`${h.url}/deliveries`, 'GET', [
      ['Authorization', `Bearer ${all}`],
      ['Origin', ORIGIN],
      ['Origin', 'https://evil.example'],
    ]);
    expect(twice.status).toBe(403);
    for (const answer of [denied, allowed]) expect(answer.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('preflights allow GET with Authorization and Last-Event-ID only', async () => {
    const preflight = (method: string, headers: string, origin = ORIGIN) =>
      fetch(`${h.url}/events`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
      });
    const ok = await preflight('GET', 'authorization, last-event-id');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET');
    expect(ok.headers.get('access-control-allow-headers')).toBe('authorization, last-event-id');
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    for (const [method, headers, origin] of [
      ['POST', 'authorization', ORIGIN],
      ['GET', 'authorization, x-extra', ORIGIN],
      ['GET', 'authorization', 'https://evil.example'],
    ] as const) {
      const res = await preflight(method, headers, origin);
      expect(res.status, `${method} ${headers} ${origin}`).toBe(403);
    }
  });
});

describe('the per-token limit', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 3, windowSeconds: 3600 } } });
  });
  afterAll(() => h.close());

  it("answers 429 rate_limited with Retry-After and RateLimit headers past the token's window; another token is unaffected", async () => {
    const a = await h.token();
    const b = await h.token();
    for (let i = 0; i < 3; i++) expect((await h.get('/deliveries', a.token)).status).toBe(200);
    const refused = await h.get('/deliveries', a.token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-policy')).toBe('"api";q=3;w=3600');
    expect(refused.headers.get('ratelimit')).toMatch(/^"api";r=0;t=\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await h.get('/events', a.token)).status).toBe(429);
    expect((await h.get('/deliveries', b.token)).status).toBe(200);
  });
});

describe('the stored event type, read by a scan of the signed body', () => {
  let h: ReaderHarness;
  let token: string;
  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 1000, windowSeconds: 60 } } });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());

  // Bodies a sender could sign to make the stored type differ from what its consumer's JSON.parse reads.
  it.each([
    ['a later duplicate spelled with an escape', '{"type":"first","\\u0074ype":"last"}', 'last'],
    ['an earlier escaped key, the plain one last', '{"\\u0074ype":"first","type":"last"}', 'last'],
    ['the key text inside a string value', '{"note":"\\",\\"type\\":\\"FAKE\\"","type":"real"}', 'real'],
    ['only a nested type', '{"data":{"type":"nested"}}', null],
    ['a later duplicate that is not a string', '{"type":"first","type":{"type":"x"}}', null],
    ['an escaped value', '{"type":"invoice\\u002epaid"}', 'invoice.paid'],
    ['no object', '["type","x"]', null],
    [
      'a large body, the type last after a nested decoy',
      `{"data":{"note":"${'x\\"'.repeat(100_000)}","type":"decoy"},"type":"big.last"}`,
      'big.last',
    ],
  ])('%s: the type JSON.parse reads', async (_name, body, expected) => {
    const parsed: unknown = JSON.parse(body);
    const type = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { type?: unknown }).type : undefined;
    expect(typeof type === 'string' ? type : null).toBe(expected);
    const delivered = await h.deliver('default', body);
    expect(delivered.status).toBe(202);
    const res = await h.get(`/deliveries/default/${delivered.id}`, token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { eventType?: string | null }).eventType ?? null).toBe(expected);
  });
});
