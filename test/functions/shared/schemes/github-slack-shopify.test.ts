import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { github, shopify, slack } from '../../../../functions/shared/schemes';
import { TEST_SECRETS } from '../../../helpers/secrets';
import { flipByte, verifyWith } from './fixtures';

const NOW = Math.floor(Date.now() / 1000);

describe('github', () => {
  const SECRET = TEST_SECRETS.github;
  const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
  const headers = async (secret = SECRET, payload = body) => ({
    'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    'X-GitHub-Event': 'ping',
    'X-Hub-Signature-256': await octokitSign(secret, payload),
  });

  it('accepts the published vector', () => {
    const result = verifyWith(github, [SECRET], { 'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' }, 'Hello, World!', NOW);
    expect(result.ok).toBe(true);
  });

  it('accepts a delivery signed by @octokit/webhooks-methods; id and event from the headers', async () => {
    expect(verifyWith(github, [SECRET], await headers(), body, NOW)).toEqual({ ok: true, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', eventType: 'ping' });
  });

  it('accepts either of two secrets (verify with fallback)', async () => {
    expect(verifyWith(github, ['old secret', SECRET], await headers(), body, NOW).ok).toBe(true);
  });

  it.each([
    ['wrong secret', async () => verifyWith(github, ['nope'], await headers(), body, NOW)],
    ['one flipped body byte', async () => verifyWith(github, [SECRET], await headers(), flipByte(body, 3), NOW)],
    ['missing signature', async () => verifyWith(github, [SECRET], { 'X-GitHub-Delivery': 'x' }, body, NOW)],
    ['sha1 header only', async () => verifyWith(github, [SECRET], { 'X-Hub-Signature': 'sha1=abc' }, body, NOW)],
    ['garbled signature', async () => verifyWith(github, [SECRET], { ...(await headers()), 'X-Hub-Signature-256': 'sha256=zz' }, body, NOW)],
    ['short signature', async () => verifyWith(github, [SECRET], { ...(await headers()), 'X-Hub-Signature-256': 'sha256=abcd' }, body, NOW)],
    ['malformed delivery id', async () => verifyWith(github, [SECRET], { ...(await headers()), 'X-GitHub-Delivery': 'has space' }, body, NOW)],
  ])('refuses %s', async (_name, run) => {
    const result = await run();
    expect(!result.ok && result.code).toBe('signature_invalid');
  });

  it('signs what octokit signs', async () => {
    expect(github.sign(SECRET, { body: Buffer.from(body) })['X-Hub-Signature-256']).toBe(await octokitSign(SECRET, body));
  });
});

describe('slack', () => {
  const SECRET = TEST_SECRETS.slack;
  // Published vector (Slack's "Verifying requests" guide).
  const VECTOR_TS = 1531420618;
  const VECTOR_BODY =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const VECTOR_SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const event = JSON.stringify({ type: 'event_callback', event_id: 'Ev08MFMKH6', event: { type: 'app_mention' } });
  const signed = (ts = NOW, body = event) => slack.sign(SECRET, { body: Buffer.from(body), timestampSeconds: ts });

  it('accepts the published vector; a slash command has no id, so the signature is the nonce', () => {
    const result = verifyWith(slack, [SECRET], { 'X-Slack-Request-Timestamp': String(VECTOR_TS), 'X-Slack-Signature': VECTOR_SIG }, VECTOR_BODY, VECTOR_TS);
    expect(result).toEqual({ ok: true, deliveryId: `sig_${VECTOR_SIG.slice(3)}`, timestampSeconds: VECTOR_TS });
  });

  it('signs the published vector exactly', () => {
    expect(slack.sign(SECRET, { body: Buffer.from(VECTOR_BODY), timestampSeconds: VECTOR_TS })['X-Slack-Signature']).toBe(VECTOR_SIG);
  });

  it('uses the Events API event_id as the delivery id', () => {
    expect(verifyWith(slack, [SECRET], signed(), event, NOW)).toMatchObject({ ok: true, deliveryId: 'Ev08MFMKH6' });
    expect(slack.eventTypeOf?.({ headers: new Map(), body: Buffer.from(event) })).toBe('app_mention');
  });

  it.each([
    ['wrong secret', () => verifyWith(slack, ['nope'], signed(), event, NOW), 'signature_invalid'],
    ['one flipped body byte', () => verifyWith(slack, [SECRET], signed(), flipByte(event, 5), NOW), 'signature_invalid'],
    ['stale', () => verifyWith(slack, [SECRET], signed(NOW - 301), event, NOW), 'timestamp_out_of_range'],
    ['future', () => verifyWith(slack, [SECRET], signed(NOW + 301), event, NOW), 'timestamp_out_of_range'],
    ['millisecond timestamp', () => verifyWith(slack, [SECRET], { ...signed(), 'X-Slack-Request-Timestamp': String(NOW * 1000) }, event, NOW), 'timestamp_invalid'],
    ['missing timestamp', () => verifyWith(slack, [SECRET], { 'X-Slack-Signature': signed()['X-Slack-Signature'] as string }, event, NOW), 'signature_invalid'],
    ['garbled signature', () => verifyWith(slack, [SECRET], { ...signed(), 'X-Slack-Signature': 'v0=nothex' }, event, NOW), 'signature_invalid'],
  ])('refuses %s', (_name, run, code) => {
    const result = run();
    expect(!result.ok && result.code).toBe(code);
  });
});

describe('shopify', () => {
  const SECRET = TEST_SECRETS.shopify;
  const body = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com' });
  // Shopify's documented algorithm: base64(HMAC-SHA256(secret, raw body)).
  const reference = createHmac('sha256', SECRET).update(body).digest('base64');
  const headers = { 'X-Shopify-Hmac-Sha256': reference, 'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', 'X-Shopify-Topic': 'orders/create' };

  it('accepts a delivery signed per Shopify docs; id and topic from the headers', () => {
    expect(verifyWith(shopify, [SECRET], headers, body, NOW)).toEqual({ ok: true, deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', eventType: 'orders/create' });
    expect(shopify.sign(SECRET, { body: Buffer.from(body) })['X-Shopify-Hmac-Sha256']).toBe(reference);
  });

  it.each([
    ['wrong secret', () => verifyWith(shopify, ['nope'], headers, body, NOW)],
    ['one flipped body byte', () => verifyWith(shopify, [SECRET], headers, flipByte(body, 7), NOW)],
    ['missing header', () => verifyWith(shopify, [SECRET], { 'X-Shopify-Topic': 'x' }, body, NOW)],
    ['hex instead of base64', () => verifyWith(shopify, [SECRET], { ...headers, 'X-Shopify-Hmac-Sha256': createHmac('sha256', SECRET).update(body).digest('hex') }, body, NOW)],
  ])('refuses %s', (_name, run) => {
    const result = run();
    expect(!result.ok && result.code).toBe('signature_invalid');
  });
});
