import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFreshness, parseUnixSeconds, timestampText } from '../../../core/schemes/timestamp.js';
import { headerMap, NOW } from './fixtures.js';

describe('parseUnixSeconds', () => {
  it.each([
    ['1614265330', 1614265330],
    ['0', 0],
    ['9999999999', 9999999999],
  ])('reads %s', (text, seconds) => {
    expect(parseUnixSeconds(text, 'ts')).toBe(seconds);
  });

  it.each([
    ['milliseconds', String(NOW * 1000), /looks like milliseconds/],
    ['11 digits', '16142653300', /is not Unix seconds/],
    ['a sign', '+1614265330', /is not Unix seconds/],
    ['a minus', '-1', /is not Unix seconds/],
    ['a decimal point', '1614265330.5', /is not Unix seconds/],
    ['an exponent', '1e9', /is not Unix seconds/],
    ['a leading space', ' 1614265330', /is not Unix seconds/],
    ['a trailing space', '1614265330 ', /is not Unix seconds/],
    ['hex', '0x60376b52', /is not Unix seconds/],
    ['empty', '', /is not Unix seconds/],
    ['Arabic-Indic digits', '١٦١٤٢٦٥٣٣٠', /is not Unix seconds/],
  ])('refuses %s as timestamp_invalid, without quoting it', (_name, text, reason) => {
    const result = parseUnixSeconds(text, 'x-ts');
    expect(result).toMatchObject({ ok: false, code: 'timestamp_invalid', reason: expect.stringMatching(reason) });
    if (typeof result === 'object' && text.trim().length > 2) expect(result.reason).not.toContain(text.trim());
  });

  it('never throws, and accepts exactly 1 to 10 ASCII digits (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[0-9]{0,14}$/)), (text) => {
        const parsed = parseUnixSeconds(text, 'ts');
        if (/^[0-9]{1,10}$/.test(text)) expect(parsed).toBe(Number(text));
        else expect(parsed).toMatchObject({ ok: false, code: 'timestamp_invalid' });
      }),
    );
  });
});

describe('timestampText', () => {
  it('is the header text; missing or two different values are garbled headers', () => {
    expect(timestampText(headerMap({ 'x-ts': '1' }), 'x-ts')).toBe('1');
    expect(timestampText(headerMap({ 'x-ts': ['1', '1'] }), 'x-ts')).toBe('1');
    expect(timestampText(headerMap({}), 'x-ts')).toMatchObject({ ok: false, code: 'signature_invalid', reason: 'missing x-ts' });
    expect(timestampText(headerMap({ 'x-ts': ['1', '2'] }), 'x-ts')).toMatchObject({
      ok: false,
      code: 'signature_invalid',
      reason: 'conflicting x-ts headers',
    });
  });
});

describe('checkFreshness', () => {
  it.each([0, 1, 299, 300, -1, -299, -300])('accepts %i s of skew (limit 300)', (skew) => {
    expect(checkFreshness(NOW - skew, NOW, 300)).toBeUndefined();
  });

  it.each([
    [301, /301 s old/],
    [-301, /301 s in the future/],
    [86400, /86400 s old/],
  ])('refuses %i s of skew, saying which way', (skew, reason) => {
    expect(checkFreshness(NOW - skew, NOW, 300)).toEqual({
      ok: false,
      code: 'timestamp_out_of_range',
      reason: expect.stringMatching(reason),
    });
  });
});

// An injected clock that gives no number (NaN, nothing) compared false both ways: every timestamp, of any age, passed.
describe('checkFreshness with a clock that gives no time', () => {
  it.each([
    ['NaN', Number.NaN],
    ['undefined', undefined as unknown as number],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('now %s: refused (it passed as fresh)', (_name, now) => {
    expect(checkFreshness(NOW - 86_400 * 365, now, 300)).toMatchObject({ ok: false, code: 'timestamp_out_of_range' });
    expect(checkFreshness(NOW, now, 300)).toMatchObject({ ok: false, code: 'timestamp_out_of_range' });
  });

  it('a maximum age of NaN: refused too', () => {
    expect(checkFreshness(NOW - 86_400, NOW, Number.NaN)).toMatchObject({ ok: false, code: 'timestamp_out_of_range' });
  });
});
