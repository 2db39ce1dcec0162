import { get } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { readDevelopmentToken } from '../../local/dev-token.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';
import { launchChromium, openPage, type OriginPage } from './helpers.js';

/** The requirement: both deliveries on the page within 2 seconds of being sent. */
const SHOWN_WITHIN_MS = 2000;

/** A GET with an explicit Host header (fetch cannot set one), as a DNS-rebinding page would send it. */
const getWithHost = (
  url: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
  new Promise((resolve, reject) => {
    get(url, { headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });

describe('the local console at / (npm start), in headless Chromium', () => {
  const dataDir = emptyDir();
  // The test's requests come from 127.0.0.1: trusted, it stands for a proxy, and the client is the one it forwards for.
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, TRUSTED_PROXIES: '127.0.0.1', HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' };
  const sign = standardWebhooksSender({ prefix: 'msg_console' });
  let local: LocalHookwarden;
  let browser: Browser;
  let opened: OriginPage;

  beforeAll(async () => {
    local = await startLocal({ env, cwd: emptyDir() });
    browser = await launchChromium();
    opened = await openPage(browser, `${local.url}/`);
    await opened.page.locator('#status', { hasText: /^live$/ }).waitFor({ timeout: 20_000 });
  }, 60_000);
  afterAll(async () => {
    await opened?.close();
    await browser?.close();
    await local?.close();
  });

  it('shows a valid delivery and a forged one (with its code and reason) within 2 seconds, request data as text only', async () => {
    const { page, consoleErrors } = opened;
    const row = (table: 'deliveries' | 'rejections', text: string) => page.locator(`#${table} tr`, { hasText: text });
    const valid = sign();
    const forged = sign();
    const sent = Date.now();
    const [accepted, refused] = await Promise.all([
      fetch(`${local.url}/webhooks/default`, {
        method: 'POST',
        body: valid.body,
        headers: { 'content-type': 'application/json', ...valid.headers },
      }),
      fetch(`${local.url}/webhooks/default`, {
        method: 'POST',
        body: forged.body,
        headers: {
          'content-type': 'application/json',
          ...forged.headers,
          'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
          'x-forwarded-for': '203.0.113.7',
        },
      }),
    ]);
    expect(accepted.status).toBe(202);
    expect(refused.status).toBe(401);
    const refusal = (await refused.json()) as { error: { code: string; requestId: string } };
    const shown = await Promise.all([
      row('deliveries', valid.id).waitFor({ timeout: SHOWN_WITHIN_MS }),
      row('rejections', refusal.error.requestId).waitFor({ timeout: SHOWN_WITHIN_MS }),
    ]).then(
      () => Date.now() - sent,
      (error: Error) => error,
    );
    expect(shown, 'both rows within the 2 s budget').toBeTypeOf('number');

    const cells = await row('deliveries', valid.id).locator('td').allTextContents();
    expect(cells.slice(1)).toEqual(['default', valid.id, 'msg_console.test', `${Buffer.byteLength(valid.body)} B`]);
    const rejection = await row('rejections', refusal.error.requestId).locator('td').allTextContents();
    expect(rejection.slice(1)).toEqual([
      'default',
      '401',
      refusal.error.code,
      expect.stringMatching(/no signature matches any secret/),
      // The resolved client (what the allowlist, blocklist and rate limits see), not the proxy's 127.0.0.1.
      '203.0.113.7',
      refusal.error.requestId,
    ]);
    expect(refusal.error.code).toBe('signature_invalid');

    // A source name made to run script if the page ever used innerHTML: shown as text, nothing runs.
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const unknown = await fetch(`${local.url}/webhooks/${encodeURIComponent(hostile)}`, { method: 'POST', body: '{}' });
    const unknownId = ((await unknown.json()) as { error: { requestId: string } }).error.requestId;
    await row('rejections', unknownId).waitFor({ timeout: 20_000 });
    const shownHostile = await row('rejections', unknownId).locator('td').allTextContents();
    expect(shownHostile[1]).toBe(hostile);
    expect(shownHostile[2]).toBe(String(unknown.status));
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('answers the page with a strict CSP, the dev token in a meta tag, and only to a loopback Host (DNS rebinding)', async () => {
    const port = new URL(local.url).port;
    const page = await fetch(`${local.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain(`<meta name="hookwarden-token" content="${readDevelopmentToken(dataDir)}">`);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    for (const host of [`localhost:${port}`, `[::1]:${port}`]) expect((await getWithHost(`${local.url}/`, host)).status).toBe(200);
    for (const host of [
      `evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      '127.0.0.1',
      `127.0.0.1:${Number(port) + 1}`,
      `localhost.:${port}`,
    ]) {
      for (const path of ['/', '/console/app.js', '/console/rejections']) {
        const refused = await getWithHost(`${local.url}${path}`, host);
        expect(refused.status, `${host} ${path}`).toBe(403);
        expect(JSON.parse(refused.body)).toEqual({
          error: { code: 'host_denied', message: expect.any(String), requestId: expect.any(String) },
        });
        expect(refused.body).not.toContain('hwk_');
      }
    }
  });

  it('serves rejections only to its own page: a cross-site Origin or Sec-Fetch-Site is refused', async () => {
    const ok = await fetch(`${local.url}/console/rejections?after=0`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ rejections: expect.any(Array) });
    expect((await fetch(`${local.url}/console/rejections`, { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(`${local.url}/console/rejections`, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await fetch(`${local.url}/console/rejections?after=x`)).status).toBe(400);
    expect((await fetch(`${local.url}/`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});
