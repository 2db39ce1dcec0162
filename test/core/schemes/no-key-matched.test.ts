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
