import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../core/pipeline.js';
import { createHealthHandler } from '../../functions/health/app.js';
import { localContext } from '../../local/http-adapter.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { httpApiV1Event } from '../helpers/http-api-event.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const ORIGIN = 'https://app.example.com';
const signed = standardWebhooksSender({ prefix: 'msg_httpapi', type: 'invoice.paid' });

const webhookEvent = (
  delivery: { body: string; headers: Record<string, string> },
  base64 = false,
  method = 'POST',
  extraHeaders: Record<string, string> = {},
) =>
  httpApiV1Event({
    method,
    path: '/webhooks/default',
    resource: '/webhooks/{source}',
    pathParameters: { source: 'default' },
    headers: Object.entries({ 'content-type': 'application/json', ...delivery.headers, ...extraHeaders }),
    body: Buffer.from(delivery.body),
    base64,
  });

// frontDoor=http-api sends the handlers payload format 1.0 events (lib/constructs/webhook-http-api.ts):
// the same pipeline must authenticate, store and deduplicate them as it does REST proxy events.
describe('the handlers behind an HTTP API (payload format 1.0), against dynalite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, CORS_ORIGINS: ORIGIN });
  });
  afterAll(() => h.close());

  it('accepts a signed delivery with 202, stores it byte-exact, and answers its copy 200 duplicate', async () => {
    const handler = createWebhookHandler(h.deps);
    const d = signed();
    const first = await handler(webhookEvent(d), localContext('webhook'));
    expect(first.statusCode).toBe(202);
    expect(JSON.parse(first.body)).toEqual({ status: 'accepted', id: d.id });
    const stored = await h.store.get('default', d.id, Math.floor(Date.now() / 1000));
    expect(stored?.body.toString()).toBe(d.body);
    expect(stored?.headers['webhook-id']).toBe(d.id);

    const again = await handler(webhookEvent(d), localContext('webhook'));
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ status: 'duplicate', id: d.id });
  });

  it('accepts a body the HTTP API base64-encoded (a binary content type)', async () => {
    const handler = createWebhookHandler(h.deps);
    const d = signed();
    const res = await handler(webhookEvent(d, true), localContext('webhook'));
    expect(res.statusCode).toBe(202);
    expect((await h.store.get('default', d.id, Math.floor(Date.now() / 1000)))?.body.toString()).toBe(d.body);
  });

  it('refuses a forged delivery with 401 and writes nothing', async () => {
    const handler = createWebhookHandler(h.deps);
    const d = signed();
    const before = h.dynamoCalls();
    const res = await handler(webhookEvent(d, false, 'POST', { 'webhook-signature': 'v1,AAAA' }), localContext('webhook'));
    expect(res.statusCode).toBe(401);
    expect(h.dynamoCalls()).toBe(before);
  });

  it('answers the CORS preflight through the OPTIONS route with the exact origin', async () => {
    const handler = createWebhookHandler(h.deps);
    const res = await handler(
      httpApiV1Event({
        method: 'OPTIONS',
        path: '/webhooks/default',
        resource: '/webhooks/{source}',
        pathParameters: { source: 'default' },
        headers: [
          ['origin', ORIGIN],
          ['access-control-request-method', 'POST'],
        ],
      }),
      localContext('webhook'),
    );
    expect(res.statusCode).toBe(204);
    const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    expect(headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('answers GET /health and GET /health/ready', async () => {
    const health = createHealthHandler(h.deps);
    expect((await health(httpApiV1Event({ method: 'GET', path: '/health' }), localContext('health'))).statusCode).toBe(200);
    const ready = await health(httpApiV1Event({ method: 'GET', path: '/health/ready' }), localContext('health'));
    expect(ready.statusCode).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  });
});
