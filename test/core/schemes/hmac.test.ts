import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHmacScheme, github, PRESET_NAMES, resolveScheme, standardWebhooks } from '../../../core/schemes/index.js';
import type { HmacSchemeOptions } from '../../../core/schemes/index.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { expectRefused, flipByte, NOW, verifyWith, signedIdOf } from './fixtures.js';

const SECRET = TEST_SECRETS.hmac;
const body = '{"event":"charge.succeeded"}';
const mac = (text: string, encoding: 'hex' | 'base64' = 'hex') => createHmac('sha256', SECRET).update(text).digest(encoding);

describe('hmac: prefix and hex over the body', () => {
  const scheme = resolveScheme('hmac', { header: 'X-Signature', prefix: 'sha256=' });
  const valid = () => ({ 'x-signature': `sha256=${mac(body)}` });

  it("verifies; with no id header the key is the signed bytes' hash", () => {
    expect(verifyWith(scheme, [SECRET], valid(), body)).toEqual({ ok: true, deliveryId: signedIdOf(body) });
    expect(verifyWith(scheme, ['old secret', SECRET], valid(), body).ok).toBe(true);
  });

  it('accepts upper-case hex: the decoded bytes are compared', () => {
    expect(verifyWith(scheme, [SECRET], { 'x-signature': `sha256=${mac(body).toUpperCase()}` }, body).ok).toBe(true);
  });

  it.each([
    ['wrong secret', () => verifyWith(scheme, ['nope'], valid(), body)],
    ['one flipped body byte', () => verifyWith(scheme, [SECRET], valid(), flipByte(body, 2))],
    ['no prefix', () => verifyWith(scheme, [SECRET], { 'x-signature': mac(body) }, body)],
    ['no header', () => verifyWith(scheme, [SECRET], {}, body)],
    ['a signature of another length', () => verifyWith(scheme, [SECRET], { 'x-signature': 'sha256=abcd' }, body)],
  ])('refuses %s', (_name, run) => {
    expectRefused(run(), 'signature_invalid', [SECRET, mac(body)]);
  });
});

describe('hmac: base64 over a template with id and timestamp', () => {
  const options: HmacSchemeOptions = {
    header: 'x-sig',
    encoding: 'base64',
    timestampHeader: 'X-Ts',
    idHeader: 'X-Id',
    template: 'v1:{id}:{timestamp}:{body}:end',
  };
  const scheme = resolveScheme('hmac', options);
  const valid = (at = NOW, id = 'd-1') => ({ 'x-id': id, 'x-ts': String(at), 'x-sig': mac(`v1:${id}:${at}:${body}:end`, 'base64') });

  it('verifies; the id header is the delivery id, and freshness is enforced both ways', () => {
    expect(verifyWith(scheme, [SECRET], valid(), body)).toEqual({ ok: true, deliveryId: 'd-1', timestampSeconds: NOW });
    expect(verifyWith(scheme, [SECRET], valid(NOW - 299), body).ok).toBe(true);
    expect(verifyWith(scheme, [SECRET], valid(NOW + 299), body).ok).toBe(true);
  });

  it('signs what it verifies, with its configured header names', () => {
    const sent = scheme.sign(SECRET, { body: Buffer.from(body), id: 'd-2', timestampSeconds: NOW });
    expect(sent).toEqual({ 'x-sig': mac(`v1:d-2:${NOW}:${body}:end`, 'base64'), 'X-Ts': String(NOW), 'X-Id': 'd-2' });
    expect(verifyWith(scheme, [SECRET], sent, body)).toMatchObject({ ok: true, deliveryId: 'd-2' });
    expect(scheme.keptHeaders).toEqual(['content-type', 'user-agent', 'x-id']);
  });

  it.each([
    ['stale by 301 s', () => verifyWith(scheme, [SECRET], valid(NOW - 301), body), 'timestamp_out_of_range'],
    ['future by 301 s', () => verifyWith(scheme, [SECRET], valid(NOW + 301), body), 'timestamp_out_of_range'],
    ['a millisecond timestamp', () => verifyWith(scheme, [SECRET], valid(NOW * 1000), body), 'timestamp_invalid'],
    ['a changed id', () => verifyWith(scheme, [SECRET], { ...valid(), 'x-id': 'd-2' }, body), 'signature_invalid'],
    ['no id (it is signed)', () => verifyWith(scheme, [SECRET], { ...valid(), 'x-id': [] }, body), 'signature_invalid'],
    ['a malformed id', () => verifyWith(scheme, [SECRET], valid(NOW, 'd 1'), body), 'signature_invalid'],
    ['no timestamp', () => verifyWith(scheme, [SECRET], { ...valid(), 'x-ts': [] }, body), 'signature_invalid'],
    [
      'hex instead of base64',
      () => verifyWith(scheme, [SECRET], { ...valid(), 'x-sig': mac(`v1:d-1:${NOW}:${body}:end`) }, body),
      'signature_invalid',
    ],
  ])('refuses %s', (_name, run, code) => {
    expectRefused(run(), code, [SECRET, valid()['x-sig']]);
  });
});

describe('hmac: an id header that is not signed', () => {
  const scheme = createHmacScheme({ header: 'x-sig', idHeader: 'x-delivery' });

  it("is displayed only: the replay key is the signed bytes' hash, whatever id a replay carries", () => {
    expect(verifyWith(scheme, [SECRET], { 'x-sig': mac(body), 'x-delivery': 'abc' }, body)).toEqual({
      ok: true,
      deliveryId: signedIdOf(body),
      providerId: 'abc',
    });
    expect(verifyWith(scheme, [SECRET], { 'x-sig': mac(body), 'x-delivery': 'fresh' }, body)).toEqual({
      ok: true,
      deliveryId: signedIdOf(body),
      providerId: 'fresh',
    });
    expect(verifyWith(scheme, [SECRET], { 'x-sig': mac(body) }, body)).toEqual({ ok: true, deliveryId: signedIdOf(body) });
  });
});

describe('resolveScheme', () => {
  it('lists every preset, and returns the same preset object every time', () => {
    expect(PRESET_NAMES).toEqual(['standard-webhooks', 'github', 'stripe', 'slack', 'shopify', 'hmac']);
    expect(resolveScheme('github')).toBe(github);
    expect(resolveScheme('standard-webhooks', { header: 'ignored' })).toBe(standardWebhooks);
    for (const name of PRESET_NAMES.filter((n) => n !== 'hmac')) expect(resolveScheme(name).name).toBe(name);
  });

  it('refuses an unknown name, listing the valid ones', () => {
    expect(() => resolveScheme('paypal')).toThrow(
      'unknown scheme "paypal" (one of standard-webhooks, github, stripe, slack, shopify, hmac)',
    );
  });

  it.each([
    ['no options', undefined, /scheme "hmac" needs hmac options: header is required/],
    ['no header', { prefix: 'x' }, /header is required/],
    ['a header name with a space', { header: 'x sig' }, /header must be a header name/],
    ['a bad encoding', { header: 'x-sig', encoding: 'base32' }, /encoding must be "hex" or "base64"/],
    // Header values arrive trimmed and without control characters: such a prefix refused every delivery with 401.
    ['a prefix starting with a space', { header: 'x-sig', prefix: ' sha256=' }, /prefix cannot start with a space or tab/],
    ['a prefix holding a newline', { header: 'x-sig', prefix: 'sha256=\n' }, /hold a control character/],
    ['a bad timestamp header', { header: 'x-sig', timestampHeader: 'x:ts' }, /timestampHeader must be a header name/],
    ['a template without {body}', { header: 'x-sig', template: '{timestamp}', timestampHeader: 'x-ts' }, /exactly once/],
    ['a template with {body} twice', { header: 'x-sig', template: '{body}.{body}' }, /exactly once/],
    ['an unknown placeholder', { header: 'x-sig', template: '{ts}.{body}' }, /unknown placeholder \{ts\}/],
    ['{timestamp} without its header', { header: 'x-sig', template: '{timestamp}.{body}' }, /timestampHeader is not set/],
    ['{id} without its header', { header: 'x-sig', template: '{id}.{body}' }, /idHeader is not set/],
    [
      'a timestamp header the template does not sign',
      { header: 'x-sig', timestampHeader: 'x-ts' },
      /timestampHeader is set but template has no \{timestamp\}/,
    ],
    ['a template that is not a string', { header: 'x-sig', template: 42 }, /template must be a string/],
    [
      'the signature header as the timestamp header (never verifies)',
      { header: 'X-Sig', timestampHeader: 'x-sig', template: '{timestamp}.{body}' },
      /timestampHeader names the same header as header/,
    ],
    [
      'the signature header as the id header (never verifies; unsigned, its MAC would be the displayed id)',
      { header: 'x-sig', idHeader: 'X-SIG', template: '{id}.{body}' },
      /idHeader names the same header as header/,
    ],
  ])('refuses hmac options with %s, in configuration terms', (_name, options, message) => {
    expect(() => resolveScheme('hmac', options as HmacSchemeOptions)).toThrow(message);
  });

  it('reports every problem of the options at once', () => {
    expect(() => resolveScheme('hmac', { header: 'x sig', encoding: 'base32' as 'hex', template: '{body}{body}' })).toThrow(
      /header.*; encoding.*; template/,
    );
  });

  it('builds a new generic scheme for each set of options', () => {
    expect(resolveScheme('hmac', { header: 'x-a' })).not.toBe(resolveScheme('hmac', { header: 'x-a' }));
  });
});

describe('hmac: a signed id next to {body} ends where the template says', () => {
  // The id is the replay key and may hold any printable character: a capture replayed with the
  // id/body boundary moved signs the same text, and must not verify as a new delivery.
  it.each([
    ['{id}.{body}', 'd-1', body, 'd-1.{"event":"charge', 'succeeded"}'],
    ['{body}.{id}', 'd-1', body, 'succeeded"}.d-1', '{"event":"charge'],
    ['{timestamp}.{id}.{body}', 'd-1', body, 'd-1.{"event":"charge', 'succeeded"}'],
    ['{id}::{body}', 'd-1', `:${body}`, 'd-1:', body],
  ])('%s: a capture replayed with the boundary moved is refused', (template, id, sentBody, movedId, movedBody) => {
    const timestamp = template.includes('{timestamp}') ? { timestampHeader: 'x-ts' } : {};
    const scheme = createHmacScheme({ header: 'x-sig', idHeader: 'x-id', template, ...timestamp });
    const sent = scheme.sign(SECRET, { body: Buffer.from(sentBody), id, timestampSeconds: NOW });
    expect(verifyWith(scheme, [SECRET], sent, sentBody)).toMatchObject({ ok: true, deliveryId: id });
    const replay: Record<string, string> = { ...sent, 'x-id': movedId };
    expect(replay['x-sig']).toBe(scheme.sign(SECRET, { body: Buffer.from(movedBody), id: movedId, timestampSeconds: NOW })['x-sig']);
    expectRefused(verifyWith(scheme, [SECRET], replay, movedBody), 'signature_invalid', [SECRET, sent['x-sig'] as string]);
  });

  it('refuses only the separating character, only next to {body}: a timestamp between fixes the boundary', () => {
    const scheme = createHmacScheme({ header: 'x-sig', idHeader: 'x-id', timestampHeader: 'x-ts', template: '{id}.{timestamp}.{body}' });
    const sent = scheme.sign(SECRET, { body: Buffer.from(body), id: 'evt.1:2', timestampSeconds: NOW });
    expect(verifyWith(scheme, [SECRET], sent, body)).toMatchObject({ ok: true, deliveryId: 'evt.1:2' });
    const dashed = createHmacScheme({ header: 'x-sig', idHeader: 'x-id', template: '{id}-{body}' });
    const signed = dashed.sign(SECRET, { body: Buffer.from(body) });
    expect(verifyWith(dashed, [SECRET], signed, body)).toMatchObject({ ok: true, deliveryId: signed['x-id'] });
    expect(verifyWith(dashed, [SECRET], dashed.sign(SECRET, { body: Buffer.from(body), id: 'a.b:c' }), body).ok).toBe(true);
  });
});
