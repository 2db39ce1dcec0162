import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUTHENTICATION_FAILURE_CODES } from '../../../core/errors.js';
import { PRESET_NAMES, resolveScheme } from '../../../core/schemes/index.js';
import type { SignatureScheme } from '../../../core/schemes/index.js';
import { headerMap, NOW } from './fixtures.js';

const schemes: SignatureScheme[] = [
  ...PRESET_NAMES.filter((name) => name !== 'hmac').map((name) => resolveScheme(name)),
  resolveScheme('hmac', {
    header: 'x-sig',
    prefix: 'sha256=',
    timestampHeader: 'x-ts',
    idHeader: 'x-id',
    template: '{id}.{timestamp}.{body}',
  }),
  resolveScheme('hmac', { header: 'x-sig', encoding: 'base64' }),
];
const NAMES = [
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'svix-id',
  'svix-timestamp',
  'svix-signature',
  'stripe-signature',
  'x-hub-signature-256',
  'x-github-delivery',
  'x-slack-signature',
  'x-slack-request-timestamp',
  'x-shopify-hmac-sha256',
  'x-shopify-webhook-id',
  'x-sig',
  'x-ts',
  'x-id',
];
/** Header values near the real shapes, as well as arbitrary text. */
const value = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('v1,', 'v1a,', 't=', 'v1=', 'v0=', 'sha256=', '').chain((prefix) => fc.string().map((rest) => prefix + rest)),
  fc.tuple(fc.nat(99999999999999), fc.string({ maxLength: 3 })).map(([n, s]) => `t=${n}${s},v1=${'a'.repeat(64)}`),
  fc.array(fc.constantFrom('v1,', 'v1a,', ' ', ',', '=', 'A', '+', '/', 'AAAA'), { maxLength: 30 }).map((parts) => parts.join('')),
);
const keys = [Buffer.from('k'), Buffer.alloc(32)];

describe('signature header parsers never throw on hostile input', () => {
  it('every scheme refuses arbitrary headers and bodies without throwing (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...NAMES), fc.array(value, { maxLength: 3 })),
        fc.uint8Array({ maxLength: 64 }),
        (headers, bytes) => {
          for (const scheme of schemes) {
            const result = scheme.verify({ headers: headerMap(headers), body: Buffer.from(bytes) }, keys, {
              nowSeconds: NOW,
              maxAgeSeconds: 300,
            });
            expect(result.ok).toBe(false);
            if (!result.ok) expect(AUTHENTICATION_FAILURE_CODES).toContain(result.code);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('secret decoders throw only Errors with a message, never echoing the secret (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 12 }), (secret) => {
        for (const scheme of schemes) {
          try {
            scheme.decodeSecret(secret);
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
            expect((error as Error).message).not.toContain(secret);
          }
        }
      }),
    );
  });
});
