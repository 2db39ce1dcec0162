import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { RecentRejections, type Rejection } from '../../local/console/rejections.js';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const ROOT = join(import.meta.dirname, '..', '..');
const filesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));

const answer = (statusCode: number, error?: Record<string, unknown>) => ({
  source: 'default',
  clientIp: '127.0.0.1',
  requestId: 'local-request',
  result: { statusCode, body: error ? JSON.stringify({ error }) : '{"status":"accepted"}' },
});

describe('the console’s recent rejections', () => {
  it('keeps refusals only, with code and the development reason (else the message), newest last', () => {
    const ring = new RecentRejections();
    ring.recordAnswer(answer(202));
    ring.recordAnswer(answer(200));
    ring.recordAnswer(
      answer(401, { code: 'signature_invalid', message: 'Unauthorized.', reason: 'no signature matches any secret', requestId: 'r1' }),
      Date.UTC(2026, 0, 1),
    );
    ring.recordAnswer(answer(429, { code: 'rate_limited', message: 'Too many requests.', requestId: 'r2' }));
    ring.recordAnswer({ ...answer(502), result: { statusCode: 502, body: 'not json' } });
    expect(ring.after(0)).toEqual([
      {
        seq: 1,
        at: '2026-01-01T00:00:00.000Z',
        source: 'default',
        status: 401,
        code: 'signature_invalid',
        reason: 'no signature matches any secret',
        requestId: 'r1',
        clientIp: '127.0.0.1',
      },
      expect.objectContaining({ seq: 2, code: 'rate_limited', reason: 'Too many requests.', requestId: 'r2' }),
      expect.objectContaining({ seq: 3, status: 502, code: 'unknown', reason: '', requestId: 'local-request' }),
    ]);
    expect(ring.after(2).map((r) => r.seq)).toEqual([3]);
  });

  it('is a ring: the oldest go first, sequence numbers keep rising, long fields are cut', () => {
    const ring = new RecentRejections(3);
    for (let i = 0; i < 5; i++) ring.recordAnswer(answer(401, { code: 'x'.repeat(1000), requestId: `r${i}` }));
    expect(ring.after(0).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(ring.after(0)[0]?.code).toHaveLength(300);
  });

  it('is local only: nothing the AWS stack or the functions are built from imports local/', () => {
    for (const file of [...filesUnder('lib'), ...filesUnder('functions'), ...filesUnder('core')]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '(\.\.\/)+local\//);
    }
  });
});

describe('the console’s rejections behind a proxy (npm start with TRUSTED_PROXIES)', () => {
  const sign = standardWebhooksSender({ prefix: 'msg_console_proxy' });
  const FORGED = 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  // The server is reached from 127.0.0.1: trusting it makes it the proxy; trusting 10.0.0.0/8 leaves it the client.
  const servers = new Map<string, LocalHookwarden>();
  beforeAll(async () => {
    for (const trusted of ['127.0.0.1', '10.0.0.0/8']) {
      const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, TRUSTED_PROXIES: trusted, HOOKWARDEN_DATA_DIR: emptyDir(), PORT: '0' };
      servers.set(trusted, await startLocal({ env, cwd: emptyDir(), inMemory: true }));
    }
  }, 60_000);
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
  });

  const post = async (local: LocalHookwarden, forwardedFor: string, signature?: string) => {
    const delivery = sign();
    const res = await fetch(`${local.url}/webhooks/default`, {
      method: 'POST',
      body: delivery.body,
      headers: {
        'content-type': 'application/json',
        ...delivery.headers,
        ...(signature ? { 'webhook-signature': signature } : {}),
        'x-forwarded-for': forwardedFor,
      },
    });
    return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string; requestId: string } } };
  };
  const shownFor = async (local: LocalHookwarden, requestId: string): Promise<Rejection | undefined> => {
    const res = await fetch(`${local.url}/console/rejections?after=0`);
    return ((await res.json()) as { rejections: Rejection[] }).rejections.find((r) => r.requestId === requestId);
  };

  it('shows the resolved client, the address the stored delivery keeps, not the proxy in front', async () => {
    const local = servers.get('127.0.0.1') as LocalHookwarden;
    const accepted = await post(local, '198.51.100.1, 203.0.113.7');
    expect(accepted.status).toBe(202);
    const store = new DynamoDbDeliveryStore({ client: local.store.client, tableName: local.config.tables.deliveries });
    const stored = await store.get('default', accepted.body.id as string, Math.floor(Date.now() / 1000));
    expect(stored?.clientIp).toBe('203.0.113.7');

    const refused = await post(local, '198.51.100.1, 203.0.113.7', FORGED);
    expect(refused.body.error?.code).toBe('signature_invalid');
    expect(await shownFor(local, refused.body.error?.requestId as string)).toMatchObject({
      code: 'signature_invalid',
      clientIp: '203.0.113.7',
    });
  });

  it.each([
    ['from an untrusted peer: the peer', '10.0.0.0/8', '203.0.113.7', 'signature_invalid'],
    ['malformed behind a trusted proxy: the peer (the client is unknown)', '127.0.0.1', 'not-an-address', 'forwarded_header_invalid'],
  ])('shows an X-Forwarded-For %s', async (_case, trusted, forwardedFor, code) => {
    const local = servers.get(trusted) as LocalHookwarden;
    const refused = await post(local, forwardedFor, FORGED);
    expect(refused.body.error?.code).toBe(code);
    expect(await shownFor(local, refused.body.error?.requestId as string)).toMatchObject({ code, clientIp: '127.0.0.1' });
  });
});
