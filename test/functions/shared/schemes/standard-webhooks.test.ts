import { Webhook as SvixWebhook } from 'svix';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { standardWebhooks } from '../../../../functions/shared/schemes';
import { TEST_SECRETS } from '../../../helpers/secrets';
import { flipByte, verifyWith } from './fixtures';

// Published vector (standard-webhooks repository).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const SECRET = TEST_SECRETS.standardWebhooks;
const NOW = Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: 'user.created', data: { id: 'u_1' } });

/** One valid delivery signed by the provider's own library; tests break exactly one thing. */
const valid = (secret: string = SECRET, at = NOW) => {
  const id = 'msg_2b1Xq0Zc';
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': new Webhook(secret).sign(id, new Date(at * 1000), body) };
};

describe('standard-webhooks', () => {
  it('accepts the published vector', () => {
    const headers = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };
    expect(verifyWith(standardWebhooks, [VECTOR.secret], headers, VECTOR.body, VECTOR.timestamp)).toEqual({
      ok: true,
      deliveryId: VECTOR.id,
      timestampSeconds: VECTOR.timestamp,
    });
  });

  it('signs the published vector exactly', () => {
    expect(standardWebhooks.sign(VECTOR.secret, { body: Buffer.from(VECTOR.body), id: VECTOR.id, timestampSeconds: VECTOR.timestamp })['webhook-signature']).toBe(VECTOR.signature);
  });

  it('accepts a delivery signed by the standardwebhooks library, with upper-case header names too', () => {
    expect(verifyWith(standardWebhooks, [SECRET], valid(), body, NOW).ok).toBe(true);
    const upper = Object.fromEntries(Object.entries(valid()).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWith(standardWebhooks, [SECRET], upper, body, NOW).ok).toBe(true);
  });

  it('accepts Svix deliveries under the svix-* header names, signed by the svix library', () => {
    const id = 'msg_svix_1';
    const signature = new SvixWebhook(SECRET).sign(id, new Date(NOW * 1000), body);
    const result = verifyWith(standardWebhooks, [SECRET], { 'svix-id': id, 'svix-timestamp': String(NOW), 'svix-signature': signature }, body, NOW);
    expect(result).toMatchObject({ ok: true, deliveryId: id });
  });

  it('accepts either of two secrets, and a multi-signature header whose second entry matches', () => {
    const second = TEST_SECRETS.standardWebhooksSecond;
    expect(verifyWith(standardWebhooks, [SECRET, second], valid(second), body, NOW).ok).toBe(true);
    expect(verifyWith(standardWebhooks, [SECRET, second], valid(SECRET), body, NOW).ok).toBe(true);
    const headers = valid(second);
    headers['webhook-signature'] = `v1a,ZWQyNTUxOQ== ${valid(SECRET)['webhook-signature'].replace('v1,', 'v1,AAAA')} ${headers['webhook-signature']}`;
    expect(verifyWith(standardWebhooks, [second], headers, body, NOW).ok).toBe(true);
  });

  it.each([
    ['wrong secret', () => verifyWith(standardWebhooks, [TEST_SECRETS.standardWebhooksSecond], valid(), body, NOW), 'signature_invalid'],
    ['one flipped body byte', () => verifyWith(standardWebhooks, [SECRET], valid(), flipByte(body, 10), NOW), 'signature_invalid'],
    ['stale by 301 s', () => verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW - 301), body, NOW), 'timestamp_out_of_range'],
    ['future by 301 s', () => verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW + 301), body, NOW), 'timestamp_out_of_range'],
    ['millisecond timestamp', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': String(NOW * 1000) }, body, NOW), 'timestamp_invalid'],
    ['garbled signature', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': 'v1,!!!' }, body, NOW), 'signature_invalid'],
    ['short signature', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': 'v1,AAAA' }, body, NOW), 'signature_invalid'],
    ['missing signature', () => verifyWith(standardWebhooks, [SECRET], { 'webhook-id': 'x', 'webhook-timestamp': String(NOW) }, body, NOW), 'signature_invalid'],
    ['missing id', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-id': '' }, body, NOW), 'signature_invalid'],
    ['changed id', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-id': 'msg_other' }, body, NOW), 'signature_invalid'],
    ['conflicting timestamps', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': [String(NOW), String(NOW - 1)] }, body, NOW), 'signature_invalid'],
  ])('refuses %s', (_name, run, code) => {
    const result = run();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe(code);
    expect(JSON.stringify(result)).not.toContain(SECRET.slice(6));
  });

  it('accepts 299 s in either direction', () => {
    expect(verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW - 299), body, NOW).ok).toBe(true);
    expect(verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW + 299), body, NOW).ok).toBe(true);
  });

  it.each([
    ['a pasted signature', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
    ['text that is not base64', 'whsec_not base64!'],
    ['a key shorter than 16 bytes', 'whsec_c2hvcnQ='],
  ])('refuses %s as a secret', (_name, secret) => {
    expect(() => standardWebhooks.decodeSecret(secret)).toThrow();
  });

  it('reads the event type from the body only when asked (after verification)', () => {
    expect(standardWebhooks.eventTypeOf?.({ headers: new Map(), body: Buffer.from(body) })).toBe('user.created');
    expect(standardWebhooks.eventTypeOf?.({ headers: new Map(), body: Buffer.from('not json') })).toBeUndefined();
  });
});
