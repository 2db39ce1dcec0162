import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import {
  browserFetch,
  launchChromium,
  openPage,
  recordRequests,
  startPageServer,
  tokens,
  type OriginPage,
  type PageServer,
  type RequestLog,
} from './helpers.js';

// CORS is enforced by browsers, not servers: what the page may read is decided
// here by headless Chromium. Node's fetch (no CORS) reads the raw headers, and
// the server-side request log shows why the browser refused (preflight denied,
// or a response it withheld), so a network failure can never pass for a refusal.

describe('CORS in headless Chromium', () => {
  let browser: Browser;
  let allowed: PageServer;
  let second: PageServer;
  let other: PageServer;
  let h: Harness;
  let log: RequestLog;
  const opened: OriginPage[] = [];

  const visit = async (origin: string): Promise<OriginPage> => {
    const page = await openPage(browser, origin);
    opened.push(page);
    return page;
  };
  const webhookUrl = () => `${h.url}/webhooks/default`;
  const rawPreflight = (origin: string, method: string, headers?: string) =>
    fetch(webhookUrl(), {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': method,
        ...(headers ? { 'Access-Control-Request-Headers': headers } : {}),
      },
    });

  beforeAll(async () => {
    browser = await launchChromium();
    allowed = await startPageServer();
    second = await startPageServer();
    other = await startPageServer();
    // Two origins configured: the second exists so `Vary` is checked where a repeat used to appear.
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, CORS_ORIGINS: `${allowed.origin},${second.origin}` });
    log = recordRequests(h.http.server);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((p) => p.close()));
    await log.take();
  });

  afterAll(async () => {
    log?.stop();
    await browser?.close();
    await h?.close();
    await allowed?.close();
    await second?.close();
    await other?.close();
  });

  it('lets the configured origin read /health; the raw answer echoes exactly that origin with Vary: Origin', async () => {
    const { page } = await visit(allowed.origin);
    const seen = await browserFetch(page, `${h.url}/health`);
    expect(seen).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse((seen as { body: string }).body)).toEqual({ status: 'ok' });
    expect(await log.take()).toEqual([expect.objectContaining({ method: 'GET', path: '/health', origin: allowed.origin, status: 200 })]);

    const raw = await fetch(`${h.url}/health`, { headers: { Origin: allowed.origin } });
    expect(raw.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(tokens(raw.headers.get('vary'))).toContain('origin');
  });

  it('withholds the response from any other origin: the server answered, the browser raised a TypeError', async () => {
    const { page, consoleErrors } = await visit(other.origin);
    const seen = await browserFetch(page, `${h.url}/health`);
    expect(seen).toMatchObject({ ok: false, name: 'TypeError' });
    // The request reached the server and was answered: the browser blocked the read, not the network.
    expect(await log.take()).toEqual([expect.objectContaining({ method: 'GET', path: '/health', origin: other.origin, status: 200 })]);
    await expect.poll(() => consoleErrors.join('\n')).toMatch(/blocked by CORS policy/);

    const raw = await fetch(`${h.url}/health`, { headers: { Origin: other.origin } });
    expect(raw.status).toBe(200);
    expect(raw.headers.has('access-control-allow-origin')).toBe(false);
    expect(tokens(raw.headers.get('vary'))).toContain('origin');
  });

  it('refuses a preflighted POST from any other origin at preflight (403, no Access-Control-Allow-Origin)', async () => {
    const { page } = await visit(other.origin);
    const seen = await browserFetch(page, webhookUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(seen).toMatchObject({ ok: false, name: 'TypeError' });
    expect(await log.take()).toEqual([
      expect.objectContaining({ method: 'OPTIONS', origin: other.origin, requestMethod: 'POST', status: 403 }),
    ]);

    const raw = await rawPreflight(other.origin, 'POST', 'content-type');
    expect(raw.status).toBe(403);
    expect(raw.headers.has('access-control-allow-origin')).toBe(false);
    expect((await readJson(raw)).error.code).toBe('cors_preflight_denied');
  });

  it('passes a preflighted POST from the configured origin; the 401 it earns is readable, so errors carry CORS too', async () => {
    const { page } = await visit(allowed.origin);
    const seen = await browserFetch(page, webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_browser_probe' },
      body: '{}',
    });
    expect(seen).toMatchObject({ ok: true, status: 401 });
    expect(JSON.parse((seen as { body: string }).body).error.code).toBe('signature_invalid');

    const [preflight, post, ...rest] = await log.take();
    expect(rest).toEqual([]);
    expect(preflight).toMatchObject({
      method: 'OPTIONS',
      path: '/webhooks/default',
      origin: allowed.origin,
      requestMethod: 'POST',
      status: 204,
    });
    expect(tokens(preflight?.requestHeaders ?? null)).toEqual(expect.arrayContaining(['content-type', 'webhook-id']));
    expect(post).toMatchObject({ method: 'POST', path: '/webhooks/default', origin: allowed.origin, status: 401 });
  });

  it('refuses a DELETE from the configured origin at preflight; DELETE is never advertised', async () => {
    const { page, consoleErrors } = await visit(allowed.origin);
    const seen = await browserFetch(page, webhookUrl(), { method: 'DELETE' });
    expect(seen).toMatchObject({ ok: false, name: 'TypeError' });
    // Only the preflight arrived, and it was denied: the DELETE itself was never sent.
    expect(await log.take()).toEqual([
      expect.objectContaining({ method: 'OPTIONS', origin: allowed.origin, requestMethod: 'DELETE', status: 403 }),
    ]);
    await expect.poll(() => consoleErrors.join('\n')).toMatch(/blocked by CORS policy.*preflight/);

    const raw = await rawPreflight(allowed.origin, 'DELETE');
    expect(raw.status).toBe(403);
    expect(tokens(raw.headers.get('access-control-allow-methods'))).not.toContain('delete');
    expect((await readJson(raw)).error.code).toBe('cors_preflight_denied');
  });

  it('refuses a request header outside the allowlist at preflight; it is never advertised', async () => {
    const { page, consoleErrors } = await visit(allowed.origin);
    const seen = await browserFetch(page, webhookUrl(), { method: 'POST', headers: { 'x-custom-thing': '1' }, body: '{}' });
    expect(seen).toMatchObject({ ok: false, name: 'TypeError' });
    expect(await log.take()).toEqual([
      expect.objectContaining({ method: 'OPTIONS', origin: allowed.origin, requestHeaders: 'x-custom-thing', status: 403 }),
    ]);
    await expect.poll(() => consoleErrors.join('\n')).toMatch(/blocked by CORS policy.*preflight/);

    const raw = await rawPreflight(allowed.origin, 'POST', 'content-type, x-custom-thing');
    expect(raw.status).toBe(403);
    expect(tokens(raw.headers.get('access-control-allow-headers'))).not.toContain('x-custom-thing');
    expect((await readJson(raw)).error.code).toBe('cors_preflight_denied');
  });

  it('answers an allowed preflight with 204, exactly the origin, and only GET, POST, OPTIONS', async () => {
    const raw = await rawPreflight(allowed.origin, 'POST', 'content-type, webhook-id, webhook-timestamp, webhook-signature');
    expect(raw.status).toBe(204);
    expect(raw.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(tokens(raw.headers.get('access-control-allow-methods'))).toEqual(['get', 'post', 'options']);
    expect(tokens(raw.headers.get('access-control-allow-headers'))).toEqual(
      expect.arrayContaining(['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']),
    );
    expect(tokens(raw.headers.get('vary'))).toContain('origin');
  });

  it('lets each configured origin read its own answer, with Vary: Origin once', async () => {
    for (const origin of [allowed.origin, second.origin]) {
      const { page } = await visit(origin);
      expect(await browserFetch(page, `${h.url}/health`)).toMatchObject({ ok: true, status: 200 });
      const raw = await fetch(`${h.url}/health`, { headers: { Origin: origin } });
      expect(raw.headers.get('access-control-allow-origin')).toBe(origin);
      expect(tokens(raw.headers.get('vary')).filter((token) => token === 'origin')).toEqual(['origin']);
    }
    expect((await log.take()).map((r) => [r.origin, r.status])).toEqual([
      [allowed.origin, 200],
      [allowed.origin, 200],
      [second.origin, 200],
      [second.origin, 200],
    ]);
  });

  it('refuses a preflighted POST to an unknown source at preflight (404): the POST is never sent', async () => {
    const { page, consoleErrors } = await visit(allowed.origin);
    const seen = await browserFetch(page, `${h.url}/webhooks/no-such-source`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(seen).toMatchObject({ ok: false, name: 'TypeError' });
    expect(await log.take()).toEqual([
      expect.objectContaining({ method: 'OPTIONS', path: '/webhooks/no-such-source', origin: allowed.origin, status: 404 }),
    ]);
    await expect.poll(() => consoleErrors.join('\n')).toMatch(/blocked by CORS policy.*preflight/);
  });

  it.each([
    ['another port', () => other.origin],
    ['the same port on localhost', () => allowed.origin.replace('127.0.0.1', 'localhost')],
    ['https instead of http', () => allowed.origin.replace('http:', 'https:')],
    ['a trailing slash', () => `${allowed.origin}/`],
    ['a suffix on the port', () => `${allowed.origin}0`],
    ['a suffix on the host', () => `${allowed.origin}.evil.example`],
    ['two origins in one header', () => `${allowed.origin} ${other.origin}`],
    ['the opaque origin', () => 'null'],
    ['a prototype name', () => '__proto__'],
    ['another prototype name', () => 'constructor'],
    ['both configured origins in one header', () => `${allowed.origin}, ${second.origin}`],
  ])('echoes no origin for a near miss: %s', async (_label, origin) => {
    const raw = await fetch(`${h.url}/health`, { headers: { Origin: origin() } });
    expect(raw.status).toBe(200);
    expect(raw.headers.has('access-control-allow-origin')).toBe(false);
  });
});
