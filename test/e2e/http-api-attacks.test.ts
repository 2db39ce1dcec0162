import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler, type HttpHandler } from '../../core/pipeline.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { createHealthHandler } from '../../functions/health/app.js';
import { localContext } from '../../local/http-adapter.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { httpApiV1Event, httpApiWebhookEvent } from '../helpers/http-api-event.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender, type SignedDelivery } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const ORIGIN = 'https://app.example.com';
const ALLOWED = '203.0.113.9';
const OUTSIDE = '198.51.100.7';
const signed = standardWebhooksSender({ prefix: 'msg_hatk' });
type Lines = (readonly [string, string])[];
const linesOf = (d: SignedDelivery): Lines => [['content-type', 'application/json'], ...Object.entries(d.headers)];
const nowSeconds = () => Math.floor(Date.now() / 1000);

const answer = async (handler: HttpHandler, event: APIGatewayProxyEvent) => {
  const res = await handler(event, localContext('webhook'));
  const body = res.body ? (JSON.parse(res.body) as { error?: { code: string }; status?: string }) : {};
  const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  return { status: res.statusCode, code: body.error?.code ?? body.status, headers };
};

/** Standard Webhooks' MAC over raw bytes (node:crypto, as the specification defines it): for bodies that are not UTF-8. */
const signBytes = (id: string, timestamp: number, body: Buffer): Lines => {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return [
    ['content-type', 'application/octet-stream'],
    ['webhook-id', id],
    ['webhook-timestamp', String(timestamp)],
    ['webhook-signature', `v1,${mac}`],
  ];
};

/**
 * The same webhook as an HTTP API builds it with payload format 2.0 (CDK's default for
 * `HttpLambdaIntegration`), after AWS's documented example: no `httpMethod`, no
 * `multiValueHeaders` (repeated headers joined with commas), `requestContext.http`.
 */
const httpApiV2Event = (d: SignedDelivery): APIGatewayProxyEvent =>
  ({
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: '/webhooks/default',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...d.headers, 'x-forwarded-for': ALLOWED },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method: 'POST', path: '/webhooks/default', protocol: 'HTTP/1.1', sourceIp: ALLOWED, userAgent: 'provider-sender/1.0' },
      requestId: `req-${randomUUID()}`,
      routeKey: 'POST /webhooks/{source}',
      stage: '$default',
      time: '30/Nov/2026:04:30:00 +0000',
      timeEpoch: Date.now(),
    },
    pathParameters: { source: 'default' },
    body: d.body,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEvent;

// frontDoor=http-api hands the functions payload format 1.0 events: each attack below gets the answer it gets
// through the REST API (test/e2e/network.test.ts, webhook.test.ts, cors-edge-cases.test.ts), never a pass.
describe('attacks through the HTTP API front door (payload format 1.0), against dynalite', () => {
  let h: Harness;
  let handler: HttpHandler;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_IPS: '203.0.113.0/24', CORS_ORIGINS: ORIGIN });
    handler = createWebhookHandler(h.deps);
  });
  afterAll(() => h.close());

  it.each([
    ['one line', [['X-Forwarded-For', '203.0.113.7']]],
    [
      'two lines',
      [
        ['X-Forwarded-For', '203.0.113.7'],
        ['x-forwarded-for', '203.0.113.8'],
      ],
    ],
    ['a chain ending in an allowed address', [['X-Forwarded-For', '10.0.0.1, 203.0.113.7']]],
  ] as [string, Lines][])(
    'ignores X-Forwarded-For (%s) from a peer outside the allowlist: 403 ip_denied, no DynamoDB call',
    async (_name, forged) => {
      const d = signed();
      const before = h.dynamoCalls();
      const res = await answer(
        handler,
        httpApiWebhookEvent('default', [...linesOf(d), ...forged], Buffer.from(d.body), { sourceIp: OUTSIDE }),
      );
      expect(res).toMatchObject({ status: 403, code: 'ip_denied' });
      expect(h.dynamoCalls()).toBe(before);
    },
  );

  it.each([
    ['a second webhook-id', (d: SignedDelivery): Lines => [...linesOf(d), ['webhook-id', 'msg_other']]],
    ['a webhook-id in another case', (d: SignedDelivery): Lines => [...linesOf(d), ['Webhook-Id', 'msg_other']]],
    [
      'a webhook-id joined with commas',
      (d: SignedDelivery): Lines => [...linesOf(d).filter(([n]) => n !== 'webhook-id'), ['webhook-id', `${d.id},msg_other`]],
    ],
    ['a second webhook-timestamp', (d: SignedDelivery): Lines => [...linesOf(d), ['webhook-timestamp', String(nowSeconds() - 10)]]],
    [
      'the signature joined to a forged one with a comma',
      (d: SignedDelivery): Lines => [
        ...linesOf(d).filter(([n]) => n !== 'webhook-signature'),
        ['webhook-signature', `v1,AAAA,${d.headers['webhook-signature']}`],
      ],
    ],
  ] as [string, (d: SignedDelivery) => Lines][])('refuses a signed delivery with %s: 401, nothing written', async (_name, lines) => {
    const d = signed();
    const before = h.dynamoCalls();
    const res = await answer(handler, httpApiWebhookEvent('default', lines(d), Buffer.from(d.body), { sourceIp: ALLOWED }));
    expect(res).toMatchObject({ status: 401, code: 'signature_invalid' });
    expect(h.dynamoCalls()).toBe(before);
  });

  it('keys a copy with an extra signature line or svix-* headers on the signed id: 200 duplicate, one item', async () => {
    const d = signed();
    const first = await answer(handler, httpApiWebhookEvent('default', linesOf(d), Buffer.from(d.body), { sourceIp: ALLOWED }));
    expect(first).toMatchObject({ status: 202, code: 'accepted' });
    for (const extra of [
      [['webhook-signature', 'v1,AAAA']],
      [
        ['svix-id', 'msg_fresh'],
        ['svix-timestamp', String(nowSeconds())],
        ['svix-signature', 'v1,AAAA'],
      ],
    ] as Lines[]) {
      const copy = await answer(
        handler,
        httpApiWebhookEvent('default', [...extra, ...linesOf(d)], Buffer.from(d.body), { sourceIp: ALLOWED }),
      );
      expect(copy).toMatchObject({ status: 200, code: 'duplicate' });
    }
    expect(await h.store.get('default', 'msg_fresh', nowSeconds())).toBeUndefined();
  });

  it('verifies a body that is not UTF-8 when it arrives base64 (byte-exact), and refuses it re-encoded as text', async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7d]);
    const id = `msg_hatk_bin_${Date.now()}`;
    const lines = signBytes(id, nowSeconds(), bytes);
    const asText = await answer(handler, httpApiWebhookEvent('default', lines, bytes, { sourceIp: ALLOWED, base64: false }));
    expect(asText).toMatchObject({ status: 401, code: 'signature_invalid' });
    const exact = await answer(handler, httpApiWebhookEvent('default', lines, bytes, { sourceIp: ALLOWED, base64: true }));
    expect(exact).toMatchObject({ status: 202, code: 'accepted' });
    expect((await h.store.get('default', id, nowSeconds()))?.body.equals(bytes)).toBe(true);
  });

  it.each([
    ['another origin', [['origin', 'https://evil.example']]],
    ['a near miss', [['origin', `${ORIGIN}.evil.example`]]],
    [
      'two Origin lines, one allowed',
      [
        ['origin', 'https://evil.example'],
        ['Origin', ORIGIN],
      ],
    ],
  ] as [string, Lines][])('refuses the preflight from %s with 403 and no Access-Control-Allow-Origin', async (_name, origin) => {
    const res = await answer(
      handler,
      httpApiV1Event({
        method: 'OPTIONS',
        path: '/webhooks/default',
        resource: '/webhooks/{source}',
        pathParameters: { source: 'default' },
        headers: [...origin, ['access-control-request-method', 'POST']],
      }),
    );
    expect(res).toMatchObject({ status: 403, code: 'cors_preflight_denied' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a payload format 2.0 event (CDK’s default integration) with a 500 naming the fix in the log, never a 405 to a POST', async () => {
    const d = signed();
    const before = h.dynamoCalls();
    const health = createHealthHandler(h.deps);
    const probe = { ...httpApiV2Event(d), routeKey: 'GET /health', rawPath: '/health', pathParameters: null, body: null } as never;
    const lines = await jsonLinesDuring(async () => {
      expect(await answer(handler, httpApiV2Event(d))).toMatchObject({ status: 500, code: 'internal_error' });
      expect(await answer(health, probe)).toMatchObject({ status: 500, code: 'internal_error' });
    });
    expect(h.dynamoCalls()).toBe(before);
    const failures = lines.filter((l) => l.message === 'webhook failed');
    expect(failures).toHaveLength(2);
    for (const line of failures) expect(JSON.stringify(line)).toContain('payloadFormatVersion 1.0');
  });
});

describe('the blocklist and a trusted proxy through the HTTP API front door', () => {
  let h: Harness;
  let handler: HttpHandler;
  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_IPS: '203.0.113.0/24', TRUSTED_PROXIES: '10.0.0.0/8' },
      { containment: true },
    );
    const controls = new DynamoDbControlsStore({ client: h.client, tableName: h.config.tables.rateLimits });
    // Before the first request: the cache loads it then.
    await controls.block({ range: '203.0.113.66', expiresAt: nowSeconds() + 3600, reason: 'test', createdAt: nowSeconds() });
    handler = createWebhookHandler(h.deps);
  });
  afterAll(() => h.close());

  it('refuses a blocked peer whatever X-Forwarded-For it sends: 403 ip_blocked', async () => {
    const d = signed();
    const res = await answer(
      handler,
      httpApiWebhookEvent('default', [...linesOf(d), ['X-Forwarded-For', ALLOWED]], Buffer.from(d.body), { sourceIp: '203.0.113.66' }),
    );
    expect(res).toMatchObject({ status: 403, code: 'ip_blocked' });
  });

  it.each([
    ['an allowed client', ALLOWED, 202],
    ['an allowed client behind two trusted hops', `${ALLOWED}, 10.1.2.3`, 202],
    ['a forged allowed address left of a real client', `${ALLOWED}, ${OUTSIDE}`, 403],
    ['a blocked client', '203.0.113.66', 403],
  ])('behind a trusted proxy reads the chain right to left: %s (%s) → %i', async (_name, chain, status) => {
    const d = signed();
    const res = await answer(
      handler,
      httpApiWebhookEvent('default', [...linesOf(d), ['X-Forwarded-For', chain]], Buffer.from(d.body), { sourceIp: '10.9.9.9' }),
    );
    expect(res.status).toBe(status);
  });
});

describe('a per-client rate limit through the HTTP API front door', () => {
  let h: Harness;
  let handler: HttpHandler;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, WEBHOOK_CLIENT_RATE_LIMIT: '2/60s' }, { containment: true });
    handler = createWebhookHandler(h.deps);
  });
  afterAll(() => h.close());

  it('counts one untrusted peer once, whatever X-Forwarded-For each request claims: the third is 429', async () => {
    const statuses: number[] = [];
    for (const claimed of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      const d = signed();
      const res = await answer(
        handler,
        httpApiWebhookEvent('default', [...linesOf(d), ['X-Forwarded-For', claimed]], Buffer.from(d.body), { sourceIp: OUTSIDE }),
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([202, 202, 429]);
    // Another peer has its own count.
    const d = signed();
    expect((await answer(handler, httpApiWebhookEvent('default', linesOf(d), Buffer.from(d.body), { sourceIp: ALLOWED }))).status).toBe(
      202,
    );
  });
});
