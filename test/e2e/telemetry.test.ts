import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksHeaders } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;

describe('security events and metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET });
  });
  afterAll(() => h.close());

  it('logs one structured security event per rejection and counts it by source and code', async () => {
    const id = 'msg_telemetry_1';
    const at = new Date();
    const body = '{"a":1}';
    const headers = standardWebhooksHeaders(SECRET, id, at, body);
    const signature = headers['webhook-signature'];
    const lines = await jsonLinesDuring(() => h.post('/webhooks/default', '{"a":2}', headers));
    const events = lines.filter((l) => l.message === 'webhook rejected');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      level: 'WARN',
      securityEvent: {
        code: 'signature_invalid',
        statusCode: 401,
        source: 'default',
        clientIp: '127.0.0.1',
        requestId: expect.any(String),
      },
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(signature.slice(3));
    expect(text).not.toContain('"a":2');

    const metrics = lines.filter((l) => l._aws !== undefined);
    const rejected = metrics.find((m) => 'DeliveryRejected' in m);
    expect(rejected).toMatchObject({ DeliveryRejected: 1, source: 'default', code: 'signature_invalid', service: 'hookwarden' });
    expect(metrics.find((m) => 'AuthenticationFailure' in m)).toMatchObject({ AuthenticationFailure: 1 });
  });

  it('counts an accepted delivery by source', async () => {
    const id = 'msg_telemetry_2';
    const at = new Date();
    const body = '{"type":"t"}';
    const lines = await jsonLinesDuring(() => h.post('/webhooks/default', body, standardWebhooksHeaders(SECRET, id, at, body)));
    expect(lines.find((l) => l.message === 'webhook accepted')).toMatchObject({ source: 'default', deliveryId: id });
    expect(lines.find((l) => 'DeliveryAccepted' in l)).toMatchObject({ DeliveryAccepted: 1, source: 'default' });
  });
});

describe('bypass-attempt monitoring', () => {
  let h: Harness;
  afterAll(() => h.close());

  it('counts an X-Forwarded-For from an untrusted peer (ignored for identity)', async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET });
    const lines = await jsonLinesDuring(() => h.post('/webhooks/default', '{}', { 'X-Forwarded-For': '203.0.113.50' }));
    expect(lines.find((l) => l.message === 'bypass attempt')).toMatchObject({
      securityEvent: { code: 'forwarded_header_untrusted', clientIp: '127.0.0.1', peer: '127.0.0.1' },
    });
    expect(lines.find((l) => 'BypassAttempt' in l)).toMatchObject({ BypassAttempt: 1, code: 'forwarded_header_untrusted' });
    const rejected = lines.find((l) => l.message === 'webhook rejected') as { securityEvent: { clientIp: string } };
    expect(rejected.securityEvent.clientIp).toBe('127.0.0.1');
    await h.close();
  });

  it('counts a forged X-Forwarded-For that the allowlist then refuses (the attempt aimed at the allowlist)', async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_IPS: '203.0.113.0/24' });
    const start = h.dynamoCalls();
    const lines = await jsonLinesDuring(async () => {
      const res = await h.post('/webhooks/default', '{}', { 'X-Forwarded-For': '203.0.113.7' });
      expect(res.status).toBe(403);
    });
    expect(lines.filter((l) => l.message === 'bypass attempt')).toEqual([
      expect.objectContaining({ securityEvent: expect.objectContaining({ code: 'forwarded_header_untrusted', clientIp: '127.0.0.1' }) }),
    ]);
    expect(lines.filter((l) => 'BypassAttempt' in l)).toEqual([
      expect.objectContaining({ BypassAttempt: 1, code: 'forwarded_header_untrusted' }),
    ]);
    expect(lines.find((l) => l.message === 'webhook rejected')).toMatchObject({
      securityEvent: { code: 'ip_denied', clientIp: '127.0.0.1' },
    });
    expect(h.dynamoCalls()).toBe(start);
    await h.close();
  });

  it('counts requests spread over many IPv6 addresses of one /64', async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, TRUSTED_PROXIES: '127.0.0.1' });
    const lines = await jsonLinesDuring(async () => {
      for (let i = 1; i <= 20; i++) await h.post('/webhooks/default', '{}', { 'X-Forwarded-For': `2001:db8:aa:bb::${i.toString(16)}` });
    });
    const spread = lines.filter((l) => (l.securityEvent as { code?: string } | undefined)?.code === 'ipv6_spread');
    expect(spread).toHaveLength(1);
    expect(spread[0]).toMatchObject({ securityEvent: { prefix: '2001:db8:aa:bb::/64' } });
  });
});
