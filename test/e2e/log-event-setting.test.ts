import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksHeaders } from '../helpers/signed.js';

// POWERTOOLS_LOGGER_LOG_EVENT=true is Powertools' documented switch for logging every invocation's
// event: set while debugging a function, it would put each delivery's signature and body, and each
// read token, into the log. Hookwarden's promise (no secret, signature or body in any log line) holds
// whatever the environment says.
describe('with POWERTOOLS_LOGGER_LOG_EVENT=true in the environment', () => {
  let h: ReaderHarness;
  beforeAll(async () => {
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    h = await startReaderHarness();
  });
  afterAll(async () => {
    await h?.close();
    vi.unstubAllEnvs();
  });

  it('logs no signature, body or read token: the webhook route and the deliveries API never log their event', async () => {
    const body = '{"type":"log.event","secret_field":"body-marker-7f3a"}';
    const headers = standardWebhooksHeaders(TEST_SECRETS.standardWebhooks, 'msg_log_event_1', new Date(), body);
    const { token } = await h.token();
    const lines = await jsonLinesDuring(async () => {
      const accepted = await fetch(`${h.url}/webhooks/default`, { method: 'POST', body, headers });
      expect(accepted.status).toBe(202);
      expect((await h.get('/deliveries', token)).status).toBe(200);
      expect((await h.get('/deliveries', `${token}x`)).status).toBe(401);
    });
    // The requests were logged (so the capture worked), but not their events.
    expect(lines.some((l) => l.message === 'webhook accepted')).toBe(true);
    expect(lines.some((l) => l.message === 'api request rejected')).toBe(true);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(headers['webhook-signature'].slice(3));
    expect(text).not.toContain('body-marker-7f3a');
    expect(text).not.toContain(Buffer.from(body).toString('base64').slice(0, 40));
    expect(text).not.toContain(token);
    expect(lines.filter((l) => l.message === 'Lambda invocation event')).toEqual([]);
  });
});
