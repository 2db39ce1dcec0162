import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { emptyDir } from '../helpers/harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';
import { browserFetch, launchChromium, openPage, startPageServer, type PageServer } from './helpers.js';

/** What a DynamoDB client sends, minus a real signature: the embedded store (dynalite) checks the shape of the header only. */
const dynamoHeaders = (operation: string): Record<string, string> => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `DynamoDB_20120810.${operation}`,
  'x-amz-date': '20260101T000000Z',
  authorization: 'AWS4-HMAC-SHA256 Credential=x/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
});

/** A POST naming the store by `host` (fetch cannot set Host), as a DNS-rebinding page's request arrives. */
const postWithHost = (url: string, host: string, headers: Record<string, string>, body: string) =>
  rawRequest(url, 'POST', [['Host', host], ...Object.entries(headers)], body);

// The embedded store listens on loopback for the server and the CLI. dynalite itself answers any
// Origin with `Access-Control-Allow-Origin: *` and checks no Host: left alone, any page the developer
// visits could read every stored body (and write the tokens and blocklist) once it found the port.
describe('the embedded store of npm start, from a web page (headless Chromium)', () => {
  const dataDir = emptyDir();
  const sign = standardWebhooksSender({ prefix: 'msg_store' });
  const delivery = sign();
  let local: LocalHookwarden;
  let browser: Browser;
  let other: PageServer;

  beforeAll(async () => {
    local = await startLocal({
      env: { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' },
      cwd: emptyDir(),
    });
    const sent = await fetch(`${local.url}/webhooks/default`, {
      method: 'POST',
      body: delivery.body,
      headers: { 'content-type': 'application/json', ...delivery.headers },
    });
    expect(sent.status).toBe(202);
    browser = await launchChromium();
    other = await startPageServer();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await other?.close();
    await local?.close();
  });

  it('lets no page on another origin read or write it: the browser gets nothing back', async () => {
    const opened = await openPage(browser, other.origin);
    try {
      const scan = await browserFetch(opened.page, local.store.endpoint, {
        method: 'POST',
        headers: dynamoHeaders('Scan'),
        body: JSON.stringify({ TableName: local.config.tables.deliveries }),
      });
      expect(scan.ok ? scan.body : scan.name).toBe('TypeError');
      const drop = await browserFetch(opened.page, local.store.endpoint, {
        method: 'POST',
        headers: dynamoHeaders('DeleteTable'),
        body: JSON.stringify({ TableName: local.config.tables.rateLimits }),
      });
      expect(drop.ok ? drop.body : drop.name).toBe('TypeError');
    } finally {
      await opened.close();
    }
    // The table the page tried to delete is still there.
    const tables = await local.store.client.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain(local.config.tables.rateLimits);
  });

  it('refuses a request that names it by another Host (DNS rebinding), and one that carries an Origin', async () => {
    const port = new URL(local.store.endpoint).port;
    const scan = JSON.stringify({ TableName: local.config.tables.deliveries });
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.:${port}`]) {
      const answer = await postWithHost(local.store.endpoint, host, dynamoHeaders('Scan'), scan);
      expect(answer.status, host).toBe(403);
      expect(answer.body).not.toContain(delivery.id);
    }
    const withOrigin = await postWithHost(
      local.store.endpoint,
      `127.0.0.1:${port}`,
      { ...dynamoHeaders('Scan'), origin: 'http://127.0.0.1:1' },
      scan,
    );
    expect(withOrigin.status).toBe(403);
    expect(withOrigin.body).not.toContain(delivery.id);
    // What the server and the CLI send (loopback Host, no Origin) is served.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const own = await postWithHost(local.store.endpoint, host, dynamoHeaders('Scan'), scan);
      expect(own.status, host).toBe(200);
      expect(own.body).toContain(delivery.id);
    }
  });
});
