import { describe, expect, it } from 'vitest';
import { createHmacScheme, github, shopify, slack, standardWebhooks, stripe, type SignatureScheme } from '../../../core/schemes/index.js';
import type { HeaderMap } from '../../../core/headers.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const SCHEMES: ReadonlyArray<readonly [SignatureScheme, string, string]> = [
  [standardWebhooks, TEST_SECRETS.standardWebhooks, TEST_SECRETS.standardWebhooksSecond],
  [github, TEST_SECRETS.github, `${TEST_SECRETS.github} (rotated)`],
  [stripe, TEST_SECRETS.stripe, `${TEST_SECRETS.stripe}_rotated`],
  [slack, TEST_SECRETS.slack, `${TEST_SECRETS.slack}rotated`],
  [shopify, TEST_SECRETS.shopify, `${TEST_SECRETS.shopify}_rotated`],
  [
    createHmacScheme({ header: 'x-sig', idHeader: 'x-id', timestampHeader: 'x-ts', template: '{id}.{timestamp}.{body}' }),
    TEST_SECRETS.hmac,
    `${TEST_SECRETS.hmac}-rotated`,
  ],
];

const headersOf = (signed: Record<string, string>) =>
  new Map(Object.entries(signed).map(([name, value]) => [name.toLowerCase(), [value]] as const));

/**
 * `noKeyMatched` marks the one refusal a newer key could turn into an
 * acceptance; the signature middleware answers it 503 while its keys are stale.
 * It must be set for a well-formed signature by another key, and for nothing else.
 */
describe.each(SCHEMES)('%s: noKeyMatched', (scheme, key, otherKey) => {
  const body = Buffer.from('{"type":"invoice.paid","event_id":"Ev1","id":"evt_1"}');
  const now = Math.floor(Date.now() / 1000);
  const verify = (headers: HeaderMap, keys: string[]) =>
    scheme.verify(
      { headers, body },
      keys.map((k) => scheme.decodeSecret(k)),
      { nowSeconds: now, maxAgeSeconds: 300 },
    );

  it('is set when a well-formed signature matches none of the keys', () => {
    const result = verify(headersOf(scheme.sign(otherKey, { body, id: 'msg_1', timestampSeconds: now })), [key]);
    expect(result).toMatchObject({ ok: false, code: 'signature_invalid', noKeyMatched: true });
  });

  it('is not set for a missing signature header, and the same signature passes with the other key loaded', () => {
    const signed = scheme.sign(otherKey, { body, id: 'msg_1', timestampSeconds: now });
    expect(verify(headersOf(signed), [key, otherKey]).ok).toBe(true);
    const unsigned = headersOf({});
    const result = verify(unsigned, [key]);
    expect(result.ok).toBe(false);
    expect(result).not.toHaveProperty('noKeyMatched');
  });
});

/**
 * A timestamp outside the window is refused whatever the key: a signature by a key not loaded yet
 * could not make it acceptable, so it is no `noKeyMatched` (no 503 "retry later" while keys are
 * stale, for a delivery no retry of the same request can get in).
 */
describe.each(
  SCHEMES.filter(([scheme]) => ['standard-webhooks', 'stripe', 'slack', 'hmac'].includes(scheme.name)).map(
    ([scheme, key, otherKey]) => [scheme.name, scheme, key, otherKey] as const,
  ),
)('%s: noKeyMatched and the timestamp', (_name, scheme, key, otherKey) => {
  const body = Buffer.from('{"type":"invoice.paid","event_id":"Ev1","id":"evt_1"}');
  const now = Math.floor(Date.now() / 1000);
  const verify = (at: number) =>
    scheme.verify(
      { headers: headersOf(scheme.sign(otherKey, { body, id: 'msg_1', timestampSeconds: at })), body },
      [scheme.decodeSecret(key)],
      { nowSeconds: now, maxAgeSeconds: 300 },
    );

  it.each([
    ['an hour old', -3600],
    ['an hour ahead', 3600],
  ])('is not set when the timestamp is %s', (_name, offset) => {
    const result = verify(now + offset);
    expect(result).toMatchObject({ ok: false, code: 'signature_invalid' });
    expect(result).not.toHaveProperty('noKeyMatched');
  });

  it('is set at the edge of the window', () => {
    expect(verify(now - 300)).toMatchObject({ ok: false, noKeyMatched: true });
  });
});

/** One broken header per case, every scheme (Svix's header names too): none is a refusal a newer key could change. */
const HOSTILE: ReadonlyArray<readonly [string, SignatureScheme, string, (headers: Record<string, string>) => Record<string, string>]> = [
  ...(['webhook', 'svix'] as const).flatMap((family) => {
    const named = (h: Record<string, string>) =>
      family === 'svix' ? Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase().replace(/^webhook-/, 'svix-'), v])) : h;
    const drop = (name: string) => (h: Record<string, string>) => {
      const out = { ...named(h) };
      delete out[`${family}-${name}`];
      return out;
    };
    const set = (name: string, value: string) => (h: Record<string, string>) => ({ ...named(h), [`${family}-${name}`]: value });
    return [
      [`${family}-signature missing`, standardWebhooks, TEST_SECRETS.standardWebhooks, drop('signature')],
      [`${family}-signature garbled`, standardWebhooks, TEST_SECRETS.standardWebhooks, set('signature', 'v1,not base64!')],
      [`${family}-signature of another length`, standardWebhooks, TEST_SECRETS.standardWebhooks, set('signature', 'v1,AAAA')],
      [`${family}-id missing`, standardWebhooks, TEST_SECRETS.standardWebhooks, drop('id')],
      [`${family}-id malformed`, standardWebhooks, TEST_SECRETS.standardWebhooks, set('id', 'a\u0001b')],
      [`${family}-timestamp missing`, standardWebhooks, TEST_SECRETS.standardWebhooks, drop('timestamp')],
      [`${family}-timestamp malformed`, standardWebhooks, TEST_SECRETS.standardWebhooks, set('timestamp', 'soon')],
    ] as const;
  }),
  ['github signature garbled', github, TEST_SECRETS.github, (h) => ({ ...h, 'X-Hub-Signature-256': 'sha256=zz' })],
  ['github signature without prefix', github, TEST_SECRETS.github, (h) => ({ ...h, 'X-Hub-Signature-256': 'a'.repeat(64) })],
  ['github delivery id malformed', github, TEST_SECRETS.github, (h) => ({ ...h, 'X-GitHub-Delivery': 'a\u0001b' })],
  ['stripe signature garbled', stripe, TEST_SECRETS.stripe, (h) => ({ ...h, 'Stripe-Signature': 't=1,v1=zz' })],
  [
    'stripe timestamp malformed',
    stripe,
    TEST_SECRETS.stripe,
    (h) => ({ ...h, 'Stripe-Signature': String(h['Stripe-Signature']).replace(/t=\d+/, 't=soon') }),
  ],
  ['slack timestamp malformed', slack, TEST_SECRETS.slack, (h) => ({ ...h, 'X-Slack-Request-Timestamp': '-1' })],
  ['slack signature garbled', slack, TEST_SECRETS.slack, (h) => ({ ...h, 'X-Slack-Signature': 'v0=zz' })],
  ['shopify signature garbled', shopify, TEST_SECRETS.shopify, (h) => ({ ...h, 'X-Shopify-Hmac-Sha256': 'not base64!' })],
  ['shopify id malformed', shopify, TEST_SECRETS.shopify, (h) => ({ ...h, 'X-Shopify-Webhook-Id': 'a\u0001b' })],
  ...(() => {
    const hmac = createHmacScheme({ header: 'x-sig', idHeader: 'x-id', timestampHeader: 'x-ts', template: '{id}.{timestamp}.{body}' });
    const without = (name: string) => (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== name));
    return [
      ['hmac signature missing', hmac, TEST_SECRETS.hmac, without('x-sig')],
      ['hmac signature garbled', hmac, TEST_SECRETS.hmac, (h: Record<string, string>) => ({ ...without('x-sig')(h), 'x-sig': 'zz' })],
      ['hmac id missing (signed)', hmac, TEST_SECRETS.hmac, without('x-id')],
      ['hmac id malformed', hmac, TEST_SECRETS.hmac, (h: Record<string, string>) => ({ ...without('x-id')(h), 'x-id': 'a\u0001b' })],
      ['hmac timestamp missing', hmac, TEST_SECRETS.hmac, without('x-ts')],
      ['hmac timestamp malformed', hmac, TEST_SECRETS.hmac, (h: Record<string, string>) => ({ ...without('x-ts')(h), 'x-ts': '1.5' })],
    ] as const;
  })(),
];

describe('noKeyMatched is never set for a malformed or missing header', () => {
  const body = Buffer.from('{"type":"invoice.paid","event_id":"Ev1","id":"evt_1"}');
  const now = Math.floor(Date.now() / 1000);
  it.each(HOSTILE)('%s', (_name, scheme, key, breakIt) => {
    // Signed by a key the verifier does not hold: the one case noKeyMatched is for, once the header is right.
    const other = scheme.name === 'standard-webhooks' ? TEST_SECRETS.standardWebhooksSecond : `${key}-unknown`;
    const signed = scheme.sign(other, { body, id: 'msg_1', timestampSeconds: now });
    const verify = (headers: Record<string, string>) =>
      scheme.verify({ headers: headersOf(headers), body }, [scheme.decodeSecret(key)], { nowSeconds: now, maxAgeSeconds: 300 });
    // Unbroken, it is the case noKeyMatched is for: the test can fail.
    expect(verify(signed)).toMatchObject({ ok: false, noKeyMatched: true });
    const result = verify(breakIt(signed));
    expect(result.ok).toBe(false);
    expect(result).not.toHaveProperty('noKeyMatched');
  });
});
