import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_net' });

// The local server sees every test request from 127.0.0.1 (the TCP peer, as API Gateway's sourceIp).
describe('IP allowlist without trusted proxies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_IPS: '203.0.113.0/24, 2001:db8::/32' });
  });
  afterAll(() => h.close());

  it('refuses a peer outside the allowlist with 403 ip_denied, before any DynamoDB call', async () => {
    const d = signed();
    const start = h.dynamoCalls();
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(403);
    expect((await readJson(res)).error.code).toBe('ip_denied');
    expect(h.dynamoCalls()).toBe(start);
  });

  it('ignores a forged X-Forwarded-For from an untrusted peer', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, { ...d.headers, 'X-Forwarded-For': '203.0.113.7' });
    expect(res.status).toBe(403);
  });
});

describe('IP allowlist behind a trusted proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOWED_IPS: '203.0.113.0/24,2001:db8::/32',
      TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8',
    });
  });
  afterAll(() => h.close());

  it.each([
    ['client in range', '203.0.113.7', 202],
    ['client in range behind two trusted hops', '203.0.113.7, 10.1.2.3', 202],
    ['IPv6 client in range', '2001:db8::1', 202],
    ['IPv4-mapped IPv6 client in range', '::ffff:203.0.113.9', 202],
    ['client out of range', '198.51.100.1', 403],
    ['spoofed left-most entry before a real untrusted client', '203.0.113.7, 198.51.100.1', 403],
  ])('%s (X-Forwarded-For: %s) → %i', async (_name, forwardedFor, status) => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, { ...d.headers, 'X-Forwarded-For': forwardedFor });
    expect(res.status).toBe(status);
  });

  // The local adapter grouped header lines by their exact spelling: a client's lower-case line moved after the line the
  // proxy added last, and became the hop the allowlist read.
  it('reads X-Forwarded-For lines in the order sent, whatever their letter case', async () => {
    const d = signed();
    const post = (lines: ReadonlyArray<readonly [string, string]>) =>
      rawRequest(
        `${h.url}/webhooks/default`,
        'POST',
        [...Object.entries(d.headers), ['Content-Type', 'application/json'], ...lines],
        d.body,
      );
    // The client sent the first two lines; the trusted proxy added the last, naming the client it saw (out of range).
    const spoofed = await post([
      ['X-Forwarded-For', '198.51.100.9'],
      ['x-forwarded-for', '203.0.113.7'],
      ['X-Forwarded-For', '198.51.100.1'],
    ]);
    expect([spoofed.status, JSON.parse(spoofed.body).error?.code]).toEqual([403, 'ip_denied']);
    const allowed = await post([
      ['x-forwarded-for', '198.51.100.1'],
      ['X-FORWARDED-FOR', '198.51.100.9'],
      ['X-Forwarded-For', '203.0.113.7'],
    ]);
    expect(allowed.status).toBe(202);
  });

  it('refuses a malformed forwarded chain with 400', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, { ...d.headers, 'X-Forwarded-For': 'not-an-ip' });
    expect(res.status).toBe(400);
    expect((await readJson(res)).error.code).toBe('forwarded_header_invalid');
  });

  it('uses the peer itself when no X-Forwarded-For is sent (127.0.0.1 is not allowlisted)', async () => {
    const d = signed();
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(403);
  });
});
