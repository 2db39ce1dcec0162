import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;

/** A delivery signed by the Standard Webhooks library, as a provider would send it. */
const signed = standardWebhooksSender({ prefix: 'msg', type: 'invoice.paid' });

describe('POST /webhooks/{source} over real HTTP and dynalite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('accepts a signed delivery with 202 and its id, and stores it (body gzip, headers, TTL)', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', id: d.id });
    const stored = await h.store.get('default', d.id, Math.floor(Date.now() / 1000));
    expect(stored?.body.toString()).toBe(d.body);
    expect(stored?.eventType).toBe('invoice.paid');
    expect(stored?.headers['webhook-id']).toBe(d.id);
    expect(stored?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 6 * 86_400);
  });

  it('answers a second copy with 200 duplicate and writes nothing', async () => {
    const d = signed();
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    const before = await h.store.get('default', d.id, Math.floor(Date.now() / 1000));
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'duplicate', id: d.id });
    const after = await h.store.get('default', d.id, Math.floor(Date.now() / 1000));
    expect(after?.receivedAt).toBe(before?.receivedAt);
  });

  it('stores exactly one of 100 concurrent copies', async () => {
    const d = signed();
    const statuses = await Promise.all(
      Array.from({ length: 100 }, () => h.post('/webhooks/default', d.body, d.headers).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(99);
  });

  it('makes no DynamoDB call for any request rejected before the store', async () => {
    const d = signed();
    const start = h.dynamoCalls();
    const rejected = [
      h.post('/webhooks/default', d.body, { ...d.headers, 'webhook-signature': 'v1,AAAA' }),
      h.post('/webhooks/default', `${d.body} `, d.headers),
      h.post('/webhooks/default', d.body, { ...d.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }),
      h.post('/webhooks/default', d.body, {}),
      h.post('/webhooks/nope', d.body, d.headers),
      fetch(`${h.url}/webhooks/default`, { method: 'PUT', body: d.body, headers: d.headers }),
      h.post('/webhooks/default', 'x'.repeat(1024 * 1024 + 1), d.headers),
    ];
    const statuses = (await Promise.all(rejected)).map((r) => r.status);
    expect(statuses).toEqual([401, 401, 401, 401, 404, 405, 413]);
    expect(h.dynamoCalls()).toBe(start);
  });

  it('answers 405 with Allow for other methods, and 404 for unknown sources and paths', async () => {
    const res = await fetch(`${h.url}/webhooks/default`, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await readJson(res)).error.code).toBe('method_not_allowed');
    const unknown = await h.post('/webhooks/unknown', '{}');
    expect(unknown.status).toBe(404);
    expect(await readJson(unknown)).toMatchObject({ error: { code: 'not_found', message: 'Not found.' } });
    expect((await fetch(`${h.url}/nothing-here`)).status).toBe(404);
  });

  it('gives every error the same body shape with a request id, and security headers', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, { ...d.headers, 'webhook-signature': 'v1,garbage' });
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body).toEqual({
      error: { code: 'signature_invalid', message: expect.any(String), requestId: expect.any(String), reason: expect.any(String) },
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  // Wall clock: a minute past the 300 s tolerance, so a slow machine cannot carry the
  // timestamp back inside the window between signing and checking.
  it.each([
    ['stale', -360, 'timestamp_out_of_range'],
    ['future', 360, 'timestamp_out_of_range'],
  ])('refuses a %s timestamp with 401 %s', async (_name, offset, code) => {
    const d = signed({ at: new Date(Date.now() + offset * 1000) });
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(401);
    expect((await readJson(res)).error.code).toBe(code);
  });

  it('verifies the raw bytes of a binary (base64-encoded) body', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7b, 0x7d]);
    const id = `msg_binary_${Date.now()}`;
    const at = new Date();
    // standardwebhooks signs strings; sign the raw bytes with node:crypto to be byte-exact.
    const { createHmac } = await import('node:crypto');
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const ts = String(Math.floor(at.getTime() / 1000));
    const mac = createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`${id}.${ts}.`), bytes]))
      .digest('base64');
    const res = await h.post('/webhooks/default', bytes, {
      'content-type': 'application/octet-stream',
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${mac}`,
    });
    expect(res.status).toBe(202);
    const stored = await h.store.get('default', id, Math.floor(Date.now() / 1000));
    expect(stored?.body.equals(bytes)).toBe(true);
  });

  it('answers GET /health without the store and /health/ready with it', async () => {
    const start = h.dynamoCalls();
    const live = await fetch(`${h.url}/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    expect(h.dynamoCalls()).toBe(start);
    const ready = await fetch(`${h.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(h.dynamoCalls()).toBe(start + 1);
  });

  it('answers 503 with Retry-After while the store is down, and accepts the retry once it is back', async () => {
    const d = signed();
    await h.stopStore();
    try {
      const down = await h.post('/webhooks/default', d.body, d.headers);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await readJson(down)).error.code).toBe('unavailable');
      expect((await fetch(`${h.url}/health/ready`)).status).toBe(503);
    } finally {
      await h.startStore();
    }
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(202);
    expect(await h.store.get('default', d.id, Math.floor(Date.now() / 1000))).toBeDefined();
  });
});
