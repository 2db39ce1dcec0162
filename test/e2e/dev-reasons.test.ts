import { createHmac } from 'node:crypto';
import { sign as signGitHub } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_reason' });
/** The MAC the receiver computes for a delivery: it must never appear in an answer. */
const expectedMac = (d: ReturnType<typeof signed>): string =>
  createHmac('sha256', Buffer.from(SECRET.slice('whsec_'.length), 'base64'))
    .update(`${d.id}.${Math.floor(d.at.getTime() / 1000)}.${d.body}`)
    .digest('base64');

describe.each([
  ['development', {}, true],
  ['production', { NODE_ENV: 'production' }, false],
])('401 answers in %s', (_name, env, showsReason) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, ...env });
  });
  afterAll(() => h.close());

  it.each([
    [
      'a signature made with another secret',
      (d: ReturnType<typeof signed>) => ({
        ...d.headers,
        'webhook-signature': new Webhook(TEST_SECRETS.standardWebhooksSecond).sign(d.id, d.at, d.body),
      }),
      /no signature matches any secret/,
    ],
    [
      'no signature header',
      (d: ReturnType<typeof signed>) => ({ 'webhook-id': d.id, 'webhook-timestamp': d.headers['webhook-timestamp'] }),
      /missing webhook-signature/,
    ],
  ])('%s', async (_case, headers, reason) => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, headers(d));
    expect(res.status).toBe(401);
    const text = await res.text();
    const body = JSON.parse(text) as { error: Record<string, unknown> };
    if (showsReason) expect(body.error.reason).toMatch(reason);
    else expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
    for (const secretish of [SECRET, SECRET.slice(6), expectedMac(d), ...Object.values(headers(d))]) expect(text).not.toContain(secretish);
  });

  it('a GitHub delivery to a Standard Webhooks source: the reason names the scheme it was signed for', async () => {
    // WEBHOOK_SCHEME left at its default for a GitHub hook: "missing webhook-signature" alone does not say why.
    const body = '{"zen":"Design for failure."}';
    const res = await h.post('/webhooks/default', body, {
      'x-github-event': 'ping',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': await signGitHub('a github secret', body),
    });
    expect(res.status).toBe(401);
    const answer = await readJson(res);
    expect(answer.error.code).toBe('signature_invalid');
    if (showsReason)
      expect((answer.error as unknown as Record<string, unknown>).reason).toBe(
        "missing webhook-signature; the request carries x-hub-signature-256, as github signs: is the source's scheme github?",
      );
    else expect(answer.error).not.toHaveProperty('reason');
  });

  it('a stale timestamp', async () => {
    const d = signed({ at: new Date(Date.now() - 3603_000) });
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(401);
    const body = await readJson(res);
    expect(body.error.code).toBe('timestamp_out_of_range');
    if (showsReason)
      expect((body.error as unknown as Record<string, unknown>).reason).toMatch(/^timestamp is 360\d s old \(limit 300 s\)$/);
    else expect(body.error).not.toHaveProperty('reason');
  });
});
