import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, resolveScheme } from '../../../../functions/shared/schemes';
import { decodeBase64, decodeHex, safeEqual } from '../../../../functions/shared/schemes/compare';
import { checkFreshness, parseUnixSeconds } from '../../../../functions/shared/schemes/timestamp';
import { TEST_SECRETS } from '../../../helpers/secrets';
import { headerMap, verifyWith } from './fixtures';

const SECRET = TEST_SECRETS.hmac;
const NOW = Math.floor(Date.now() / 1000);
const body = '{"event":"charge"}';

describe('generic hmac', () => {
  it('verifies prefix + hex over the body, with the signature as the nonce', () => {
    const scheme = resolveScheme('hmac', { header: 'X-Signature', prefix: 'sha256=' });
    const mac = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(verifyWith(scheme, [SECRET], { 'x-signature': `sha256=${mac}` }, body, NOW)).toEqual({ ok: true, deliveryId: `sig_${mac}` });
    expect(verifyWith(scheme, [SECRET], { 'x-signature': mac }, body, NOW).ok).toBe(false);
  });

  it('verifies base64 over a template with timestamp and id, enforcing freshness', () => {
    const scheme = resolveScheme('hmac', { header: 'x-sig', encoding: 'base64', timestampHeader: 'x-ts', idHeader: 'x-id', template: '{id}:{timestamp}:{body}' });
    const sign = (ts: number) => ({ 'x-id': 'd-1', 'x-ts': String(ts), 'x-sig': createHmac('sha256', SECRET).update(`d-1:${ts}:${body}`).digest('base64') });
    expect(verifyWith(scheme, [SECRET], sign(NOW), body, NOW)).toEqual({ ok: true, deliveryId: 'd-1', timestampSeconds: NOW });
    expect(verifyWith(scheme, [SECRET], scheme.sign(SECRET, { body: Buffer.from(body), id: 'd-1', timestampSeconds: NOW }), body, NOW).ok).toBe(true);
    const stale = verifyWith(scheme, [SECRET], sign(NOW - 301), body, NOW);
    expect(!stale.ok && stale.code).toBe('timestamp_out_of_range');
    const changedId = verifyWith(scheme, [SECRET], { ...sign(NOW), 'x-id': 'd-2' }, body, NOW);
    expect(!changedId.ok && changedId.code).toBe('signature_invalid');
  });

  it.each([
    ['no options', undefined],
    ['no header', { prefix: 'x' }],
    ['bad encoding', { header: 'x-sig', encoding: 'base32' }],
    ['template without body', { header: 'x-sig', template: '{timestamp}' }],
    ['template with body twice', { header: 'x-sig', template: '{body}.{body}' }],
    ['{timestamp} without its header', { header: 'x-sig', template: '{timestamp}.{body}' }],
    ['{id} without its header', { header: 'x-sig', template: '{id}.{body}' }],
  ])('refuses %s', (_name, options) => {
    expect(() => resolveScheme('hmac', options as never)).toThrow(/hmac/);
  });

  it('lists every preset', () => {
    expect(PRESET_NAMES).toEqual(['standard-webhooks', 'github', 'stripe', 'slack', 'shopify', 'hmac']);
    expect(() => resolveScheme('paypal')).toThrow(/unknown scheme/);
  });
});

describe('parsers never throw on hostile input', () => {
  it('timestamps', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseUnixSeconds(text, 'ts');
        if (typeof parsed === 'number') expect(/^\s*\d{1,10}\s*$/.test(text)).toBe(true);
      }),
    );
  });

  it('signature headers of every scheme', () => {
    const schemes = PRESET_NAMES.filter((n) => n !== 'hmac').map((n) => resolveScheme(n));
    const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'stripe-signature', 'x-hub-signature-256', 'x-slack-signature', 'x-slack-request-timestamp', 'x-shopify-hmac-sha256', 'x-github-delivery'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.array(fc.string(), { minLength: 1, maxLength: 3 })), fc.uint8Array(), (headers, bytes) => {
        for (const scheme of schemes) {
          const result = scheme.verify({ headers: headerMap(headers), body: Buffer.from(bytes) }, [Buffer.from('k')], { nowSeconds: NOW, maxAgeSeconds: 300 });
          expect(result.ok).toBe(false);
        }
      }),
    );
  });

  it('decoders and compare', () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array(), fc.uint8Array(), (text, a, b) => {
        decodeHex(text);
        decodeBase64(text);
        expect(safeEqual(Buffer.from(a), Buffer.from(b))).toBe(Buffer.from(a).equals(Buffer.from(b)));
      }),
    );
  });

  it('millisecond timestamps are invalid, not a crash, and freshness is symmetric', () => {
    const ms = parseUnixSeconds(String(NOW * 1000), 'ts');
    expect(typeof ms === 'object' && ms.code).toBe('timestamp_invalid');
    expect(checkFreshness(NOW - 300, NOW, 300)).toBeUndefined();
    expect(checkFreshness(NOW + 300, NOW, 300)).toBeUndefined();
    expect(checkFreshness(NOW - 301, NOW, 300)?.code).toBe('timestamp_out_of_range');
    expect(checkFreshness(NOW + 301, NOW, 300)?.code).toBe('timestamp_out_of_range');
  });
});
