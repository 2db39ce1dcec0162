import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness';
import { TEST_SECRETS } from '../helpers/secrets';

// CORS is enforced by browsers, so this runs in Debian's headless Chromium (.ci/run installs it).
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const pageServer = async (): Promise<{ server: Server; origin: string }> => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>page</title><p>hookwarden cors test</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

/** Runs fetch in the page; reports what the browser let the page see. */
const browserFetch = (page: Page, url: string, init: RequestInit = {}) =>
  page.evaluate(
    async ([target, options]) => {
      try {
        const res = await fetch(target as string, options as RequestInit);
        return { ok: true, status: res.status, body: await res.text() };
      } catch (error) {
        return { ok: false, error: String(error) };
      }
    },
    [url, init] as const,
  );

describe('CORS in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let allowed: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let allowedPage: Page;
  let otherPage: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
    allowed = await pageServer();
    other = await pageServer();
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, CORS_ORIGINS: allowed.origin });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    allowedPage = await browser.newPage();
    await allowedPage.goto(allowed.origin);
    otherPage = await browser.newPage();
    await otherPage.goto(other.origin);
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    allowed?.server.close();
    other?.server.close();
  });

  it('lets the configured origin read a response, echoing exactly that origin with Vary: Origin', async () => {
    const seen = await browserFetch(allowedPage, `${h.url}/health`);
    expect(seen).toMatchObject({ ok: true, status: 200 });
    const raw = await fetch(`${h.url}/health`, { headers: { Origin: allowed.origin } });
    expect(raw.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(raw.headers.get('vary')).toMatch(/Origin/);
  });

  it('gives any other origin no Access-Control-Allow-Origin, so the browser blocks the read', async () => {
    const seen = await browserFetch(otherPage, `${h.url}/health`);
    expect(seen).toMatchObject({ ok: false, error: expect.stringContaining('TypeError') });
    const raw = await fetch(`${h.url}/health`, { headers: { Origin: other.origin } });
    expect(raw.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('passes a preflighted POST from the configured origin; the 401 error carries CORS headers too', async () => {
    const seen = await browserFetch(allowedPage, `${h.url}/webhooks/default`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_browser' },
      body: '{}',
    });
    expect(seen).toMatchObject({ ok: true, status: 401 });
    expect(JSON.parse((seen as { body: string }).body).error.code).toBe('signature_invalid');
  });

  it('refuses a DELETE at preflight', async () => {
    const seen = await browserFetch(allowedPage, `${h.url}/webhooks/default`, { method: 'DELETE' });
    expect(seen).toMatchObject({ ok: false });
    const raw = await fetch(`${h.url}/webhooks/default`, {
      method: 'OPTIONS',
      headers: { Origin: allowed.origin, 'Access-Control-Request-Method': 'DELETE' },
    });
    expect(raw.status).toBe(403);
    expect(raw.headers.get('access-control-allow-methods') ?? '').not.toContain('DELETE');
  });

  it('refuses a request header outside the allowlist at preflight', async () => {
    const seen = await browserFetch(allowedPage, `${h.url}/webhooks/default`, { method: 'POST', headers: { 'x-custom-thing': '1' }, body: '{}' });
    expect(seen).toMatchObject({ ok: false });
  });

  it('answers an allowed preflight with 204, the origin, and only GET, POST, OPTIONS', async () => {
    const raw = await fetch(`${h.url}/webhooks/default`, {
      method: 'OPTIONS',
      headers: { Origin: allowed.origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(raw.status).toBe(204);
    expect(raw.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(raw.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
  });
});
