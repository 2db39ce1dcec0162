import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { standardWebhooks } from '../../../core/schemes/index.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { expectRefused, flipByte, NOW, signatureParts, verifyWith } from './fixtures.js';

// Published vector (standard-webhooks repository), see webhook-schemes.md.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const SECRET = TEST_SECRETS.standardWebhooks;
const SECOND = TEST_SECRETS.standardWebhooksSecond;
const ID = 'msg_2b1Xq0Zc';
const body = JSON.stringify({ type: 'user.created', data: { id: 'u_1' } });

/** The one valid delivery, signed by the reference library; each test breaks one thing. */
const valid = (secret: string = SECRET, at = NOW) => ({
  'webhook-id': ID,
  'webhook-timestamp': String(at),
  'webhook-signature': new Webhook(secret).sign(ID, new Date(at * 1000), body),
});

describe('standard-webhooks: accepted', () => {
  it('the published vector, with the signed timestamp', () => {
    const headers = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };
    expect(verifyWith(standardWebhooks, [VECTOR.secret], headers, VECTOR.body, VECTOR.timestamp)).toEqual({
      ok: true,
      deliveryId: VECTOR.id,
      timestampSeconds: VECTOR.timestamp,
    });
  });

  it('a delivery signed by the standardwebhooks library, under any header case', () => {
    expect(verifyWith(standardWebhooks, [SECRET], valid(), body)).toEqual({ ok: true, deliveryId: ID, timestampSeconds: NOW });
    const upper = Object.fromEntries(Object.entries(valid()).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWith(standardWebhooks, [SECRET], upper, body).ok).toBe(true);
  });

  it('a Svix delivery under the svix-* names, signed by the svix library', () => {
    const signature = new SvixWebhook(SECRET).sign('msg_svix_1', new Date(NOW * 1000), body);
    const headers = { 'svix-id': 'msg_svix_1', 'svix-timestamp': String(NOW), 'svix-signature': signature };
    expect(verifyWith(standardWebhooks, [SECRET], headers, body)).toMatchObject({ ok: true, deliveryId: 'msg_svix_1' });
  });

  it('either of two secrets (rotation)', () => {
    expect(verifyWith(standardWebhooks, [SECRET, SECOND], valid(SECOND), body).ok).toBe(true);
    expect(verifyWith(standardWebhooks, [SECOND, SECRET], valid(SECRET), body).ok).toBe(true);
  });

  it('a multi-signature header whose second v1 entry is the one that matches, past v1a and unknown entries', () => {
    const wrong = valid(SECOND)['webhook-signature'];
    const right = valid(SECRET)['webhook-signature'];
    const header = `v1a,ZWQyNTUxOQ== v2,abc ${wrong} ${right}`;
    expect(verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': header }, body).ok).toBe(true);
    expect(verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': [wrong, right] }, body).ok).toBe(true);
  });

  it.each([299, -299, 300, -300])('a timestamp %i s off (limit 300)', (offset) => {
    expect(verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW - offset), body).ok).toBe(true);
  });
});

describe('standard-webhooks: refused', () => {
  const leaks = [SECRET, SECRET.slice('whsec_'.length), ...signatureParts(valid()['webhook-signature'])];

  it.each([
    ['wrong secret', () => verifyWith(standardWebhooks, [SECOND], valid(), body), 'signature_invalid'],
    ['one flipped body byte', () => verifyWith(standardWebhooks, [SECRET], valid(), flipByte(body, 10)), 'signature_invalid'],
    ['a changed id', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-id': 'msg_other' }, body), 'signature_invalid'],
    ['stale by 301 s', () => verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW - 301), body), 'timestamp_out_of_range'],
    ['future by 301 s', () => verifyWith(standardWebhooks, [SECRET], valid(SECRET, NOW + 301), body), 'timestamp_out_of_range'],
    [
      'a millisecond timestamp',
      () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': String(NOW * 1000) }, body),
      'timestamp_invalid',
    ],
    [
      'a signed millisecond timestamp',
      () =>
        verifyWith(
          standardWebhooks,
          [SECRET],
          standardWebhooks.sign(SECRET, { body: Buffer.from(body), id: ID, timestampSeconds: NOW * 1000 }),
          body,
        ),
      'timestamp_invalid',
    ],
    [
      'a decimal timestamp',
      () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': `${NOW}.5` }, body),
      'timestamp_invalid',
    ],
    [
      'a garbled signature',
      () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': 'v1,!!!' }, body),
      'signature_invalid',
    ],
    [
      'a signature of another length',
      () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': 'v1,AAAA' }, body),
      'signature_invalid',
    ],
    [
      'v1a (ed25519) only',
      () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-signature': 'v1a,ZWQyNTUxOQ==' }, body),
      'signature_invalid',
    ],
    [
      'no signature header',
      () => verifyWith(standardWebhooks, [SECRET], { 'webhook-id': ID, 'webhook-timestamp': String(NOW) }, body),
      'signature_invalid',
    ],
    ['no id', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-id': [] }, body), 'signature_invalid'],
    ['an empty id', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-id': '' }, body), 'signature_invalid'],
    ['an id with a space', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-id': 'msg 1' }, body), 'signature_invalid'],
    ['no timestamp', () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': [] }, body), 'signature_invalid'],
    [
      'two different timestamps',
      () => verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': [String(NOW), String(NOW - 1)] }, body),
      'signature_invalid',
    ],
  ])('%s', (_name, run, code) => {
    expectRefused(run(), code, leaks);
  });

  it('the published vector with its MAC in URL-safe base64 (the same bytes, not the standard encoding)', () => {
    const urlSafe = VECTOR.signature.replace('+', '-').replace('/', '_');
    const headers = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': urlSafe };
    expectRefused(verifyWith(standardWebhooks, [VECTOR.secret], headers, VECTOR.body, VECTOR.timestamp), 'signature_invalid');
  });

  it('checks in order: garbled headers, then the timestamp format, then the MAC, then freshness', () => {
    const garbled = { ...valid(), 'webhook-signature': 'v1,!!!', 'webhook-timestamp': 'soon' };
    expectRefused(verifyWith(standardWebhooks, [SECRET], garbled, body), 'signature_invalid');
    expectRefused(verifyWith(standardWebhooks, [SECRET], { ...valid(), 'webhook-timestamp': 'soon' }, body), 'timestamp_invalid');
    // A stale delivery with a wrong MAC is a forgery first.
    expectRefused(verifyWith(standardWebhooks, [SECOND], valid(SECRET, NOW - 3600), body), 'signature_invalid');
  });
});

describe('standard-webhooks: secrets', () => {
  it('decodes whsec_ secrets to their base64 key bytes (unlike Stripe)', () => {
    expect(standardWebhooks.decodeSecret(VECTOR.secret)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    expect(standardWebhooks.decodeSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toEqual(standardWebhooks.decodeSecret(VECTOR.secret));
  });

  it.each([
    ['a pasted signature', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', /signature/],
    ['text that is not base64', 'whsec_not base64!', /base64/],
    ['a Stripe secret (not base64)', TEST_SECRETS.stripe, /base64/],
    ['a key shorter than 16 bytes', 'whsec_c2hvcnQ=', /16/],
    ['an empty secret', '', /base64/],
  ])('refuses %s, without quoting it', (_name, secret, message) => {
    expect(() => standardWebhooks.decodeSecret(secret)).toThrow(message);
    try {
      standardWebhooks.decodeSecret(secret);
    } catch (error) {
      if (secret.length > 0) expect((error as Error).message).not.toContain(secret);
    }
  });
});

describe('standard-webhooks: sign and event type', () => {
  it('signs the published vector exactly, and defaults to a msg_ id and now', () => {
    const signed = standardWebhooks.sign(VECTOR.secret, {
      body: Buffer.from(VECTOR.body),
      id: VECTOR.id,
      timestampSeconds: VECTOR.timestamp,
    });
    expect(signed['webhook-signature']).toBe(VECTOR.signature);
    const fresh = standardWebhooks.sign(SECRET, { body: Buffer.from(body) });
    expect(fresh['webhook-id']).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(Math.abs(Number(fresh['webhook-timestamp']) - NOW)).toBeLessThan(5);
    expect(() => new Webhook(SECRET).verify(body, fresh)).not.toThrow();
  });

  it('reads the event type from the body only when asked, and never throws on non-JSON', () => {
    expect(standardWebhooks.eventTypeOf?.({ headers: new Map(), body: Buffer.from(body) })).toBe('user.created');
    expect(standardWebhooks.eventTypeOf?.({ headers: new Map(), body: Buffer.from('not json') })).toBeUndefined();
    expect(standardWebhooks.keptHeaders).toEqual(expect.arrayContaining(['content-type', 'user-agent', 'webhook-id']));
  });
});
