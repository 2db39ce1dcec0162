import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMac,
  decodeBase64,
  decodeHex,
  decodeMac,
  decodeMacs,
  matchAny,
  safeEqual,
  signedId,
  withSignedId,
} from '../../../core/schemes/compare.js';

const HEX_MAC = /^[0-9a-fA-F]{64}$/;
const BASE64_MAC = /^[A-Za-z0-9+/]{43}=$/;
const key = Buffer.from('compare-test-key');
const body = Buffer.from('{"hello":"world"}');
const expected = createHmac('sha256', key).update('head.').update(body).update('.tail').digest();

/** Text mostly made of the characters a MAC is written in, so that the strict checks are really exercised. */
const macLike = (alphabet: string, length: number) =>
  fc
    .array(
      fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom(...alphabet) },
        { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) },
      ),
      { minLength: length, maxLength: length },
    )
    .map((chars) => chars.join(''));

describe('safeEqual', () => {
  it('is byte equality, and never throws on unequal lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(safeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
      }),
    );
    expect(safeEqual(Buffer.alloc(32), Buffer.alloc(31))).toBe(false);
  });
});

describe('strict decoders', () => {
  it.each([
    ['hex', 'ab01FF', Buffer.from([0xab, 0x01, 0xff])],
    ['odd hex', 'abc', undefined],
    ['non-hex', 'zz', undefined],
    ['empty hex', '', undefined],
  ])('decodeHex: %s', (_name, text, bytes) => {
    expect(decodeHex(text)).toEqual(bytes);
  });

  it.each([
    ['padded base64', 'aGk=', Buffer.from('hi')],
    ['unpadded base64', 'aGk', undefined],
    ['URL-safe base64', 'a-_k', undefined],
    ['base64 with a space', 'aG k=', undefined],
    ['empty base64', '', undefined],
  ])('decodeBase64: %s', (_name, text, bytes) => {
    expect(decodeBase64(text)).toEqual(bytes);
  });

  it('decodeMac accepts exactly the strict spellings of 32 bytes, whatever the input (property)', () => {
    const check = (text: string, encoding: 'hex' | 'base64', pattern: RegExp) => {
      const mac = decodeMac(text, encoding);
      expect(mac?.toString(encoding === 'hex' ? 'hex' : 'base64')).toBe(
        pattern.test(text) ? Buffer.from(text, encoding).toString(encoding) : undefined,
      );
      expect(decodeMac(text, encoding, Buffer.alloc(32))?.equals(Buffer.from(text, encoding))).toBe(pattern.test(text) ? true : undefined);
    };
    fc.assert(
      fc.property(macLike('0123456789abcdefABCDEF', 64), (text) => {
        check(text, 'hex', HEX_MAC);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(macLike('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= ', 44), (text) => {
        check(`${text.slice(0, 43)}=`, 'base64', BASE64_MAC);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 70 }), (text) => {
        check(text, 'hex', HEX_MAC);
        check(text, 'base64', BASE64_MAC);
      }),
    );
  });

  it.each([
    ['a character above U+00FF whose low byte is a hex digit', `\u0161${'a'.repeat(63)}`, 'hex'],
    ['a character above U+00FF whose low byte is base64', `\u0167${'A'.repeat(42)}=`, 'base64'],
  ])('decodeMac refuses %s (Node would decode it)', (_name, text, encoding) => {
    expect(decodeMac(text, encoding as 'hex' | 'base64')).toBeUndefined();
  });
});

describe('addMac, decodeMacs and matchAny', () => {
  it('collects the well-formed MACs of every header value; absent and garbled differ', () => {
    const hex = expected.toString('hex');
    expect(decodeMacs(undefined, 'sha256=', 'hex')).toBeUndefined();
    expect(decodeMacs(['sha256=zz', 'nope'], 'sha256=', 'hex')).toEqual([]);
    expect(decodeMacs(['sha256=zz', `sha256=${hex}`, `sha256=${'0'.repeat(64)}`], 'sha256=', 'hex')).toEqual([expected, Buffer.alloc(32)]);
  });

  it('matches any key against any candidate, over head + body + tail', () => {
    const other = Buffer.alloc(32, 7);
    expect(matchAny([Buffer.from('wrong'), key], [other, expected], 'head.', body, '.tail')).toBe(1);
    expect(matchAny([key], [other], 'head.', body, '.tail')).toBe(-1);
    expect(matchAny([key], [expected], 'head', body, '.tail')).toBe(-1);
    expect(matchAny([], [expected], 'head.', body, '.tail')).toBe(-1);
  });

  it('keeps the first MAC of one verification intact until the next one starts', () => {
    const first: Buffer[] = [];
    addMac(first, expected.toString('hex'), 'hex');
    addMac(first, 'ab'.repeat(32), 'hex');
    expect(first).toEqual([expected, Buffer.alloc(32, 0xab)]);
  });
});

describe('signedId', () => {
  const body = Buffer.from('Hello, World!');
  it('is sig_ and 32 hex characters of a one-way hash, never the MAC', () => {
    const id = signedId('', body);
    expect(id).toMatch(/^sig_[0-9a-f]{32}$/);
    const mac = createHmac('sha256', "It's a Secret to Everybody").update(body).digest('hex');
    expect(mac).not.toContain(id.slice(4));
    expect(id.slice(4)).not.toBe(createHash('sha256').update(body).digest('hex').slice(0, 32));
  });
  it('covers every signed part, so a different timestamp or id is a different delivery', () => {
    expect(signedId('1.', body)).not.toBe(signedId('2.', body));
    expect(signedId('', body, '.a')).not.toBe(signedId('', body, '.b'));
    expect(signedId('', body)).toBe(signedId('', Buffer.from('Hello, World!')));
  });
});

describe('withSignedId', () => {
  const body = Buffer.from('Hello, World!');
  it('reads as signedId of the signed parts, keeps only the fields given, and JSON carries the id', () => {
    const delivery = withSignedId({ providerId: 'p-1', eventType: undefined, timestampSeconds: 7 }, 'v0:7:', body, '.t');
    expect(delivery.deliveryId).toBe(signedId('v0:7:', body, '.t'));
    expect(delivery.deliveryId).toBe(delivery.deliveryId);
    expect(Object.keys(delivery).sort()).toEqual(['ok', 'providerId', 'timestampSeconds']);
    expect(JSON.parse(JSON.stringify(delivery))).toEqual({
      ok: true,
      providerId: 'p-1',
      timestampSeconds: 7,
      deliveryId: signedId('v0:7:', body, '.t'),
    });
  });
  it('holds no reference a spread would expose: the signed bytes stay private', () => {
    expect(Object.values({ ...withSignedId({}, '', body) })).toEqual([true]);
  });
});
