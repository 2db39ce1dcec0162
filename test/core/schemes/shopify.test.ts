import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { shopify } from '../../../core/schemes/index.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { expectRefused, flipByte, verifyWith, signedIdOf } from './fixtures.js';

const SECRET = TEST_SECRETS.shopify;
const WEBHOOK_ID = 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043';
const body = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com' });
/** Shopify's documented algorithm, as the reference: base64(HMAC-SHA256(client secret, raw body)). */
const reference = (secret: string = SECRET, payload: string | Buffer = body): string =>
  createHmac('sha256', secret).update(payload).digest('base64');

/** The one valid delivery; each test breaks one thing. */
const valid = (secret: string = SECRET) => ({
  'X-Shopify-Hmac-Sha256': reference(secret),
  'X-Shopify-Webhook-Id': WEBHOOK_ID,
  'X-Shopify-Topic': 'orders/create',
  'X-Shopify-Shop-Domain': 'example.myshopify.com',
});

describe('shopify: accepted', () => {
  it('a delivery signed per Shopify docs; id and topic from the headers', () => {
    expect(verifyWith(shopify, [SECRET], valid(), body)).toEqual({
      ok: true,
      deliveryId: signedIdOf(body),
      providerId: WEBHOOK_ID,
      eventType: 'orders/create',
    });
  });

  it('either of two secrets', () => {
    expect(verifyWith(shopify, ['old client secret', SECRET], valid(), body).ok).toBe(true);
  });

  it("with or without the unsigned webhook id, the replay key is the signed bytes' hash", () => {
    const { 'X-Shopify-Webhook-Id': _id, ...headers } = valid();
    expect(verifyWith(shopify, [SECRET], headers, body)).toEqual({ ok: true, deliveryId: signedIdOf(body), eventType: 'orders/create' });
    expect(verifyWith(shopify, [SECRET], { ...valid(), 'X-Shopify-Webhook-Id': 'fresh' }, body)).toMatchObject({
      deliveryId: signedIdOf(body),
      providerId: 'fresh',
    });
  });
});

describe('shopify: refused', () => {
  const leaks = [SECRET, reference(), reference().slice(0, 43)];

  it.each([
    ['wrong secret', () => verifyWith(shopify, ['nope'], valid(), body)],
    ['one flipped body byte', () => verifyWith(shopify, [SECRET], valid(), flipByte(body, 7))],
    ['no signature header', () => verifyWith(shopify, [SECRET], { 'X-Shopify-Topic': 'x' }, body)],
    [
      'hex instead of base64',
      () =>
        verifyWith(
          shopify,
          [SECRET],
          { ...valid(), 'X-Shopify-Hmac-Sha256': createHmac('sha256', SECRET).update(body).digest('hex') },
          body,
        ),
    ],
    ['unpadded base64', () => verifyWith(shopify, [SECRET], { ...valid(), 'X-Shopify-Hmac-Sha256': reference().slice(0, 43) }, body)],
    ['a signature of another length', () => verifyWith(shopify, [SECRET], { ...valid(), 'X-Shopify-Hmac-Sha256': 'AAAA' }, body)],
    ['a malformed webhook id', () => verifyWith(shopify, [SECRET], { ...valid(), 'X-Shopify-Webhook-Id': 'id\twith tab' }, body)],
  ])('%s', (_name, run) => {
    expectRefused(run(), 'signature_invalid', leaks);
  });
});

describe('shopify: sign', () => {
  it('signs exactly what the reference computes, with a UUID webhook id by default', () => {
    const sent = shopify.sign(SECRET, { body: Buffer.from(body) });
    expect(sent['X-Shopify-Hmac-Sha256']).toBe(reference());
    expect(sent['X-Shopify-Webhook-Id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(verifyWith(shopify, [SECRET], sent, body).ok).toBe(true);
    expect(shopify.keptHeaders).toEqual(
      expect.arrayContaining([
        'content-type',
        'user-agent',
        'x-shopify-topic',
        'x-shopify-webhook-id',
        'x-shopify-shop-domain',
        'x-shopify-api-version',
      ]),
    );
  });
});
