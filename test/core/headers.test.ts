import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerMapFromEvent, headerValuesFromEvent, singleValue } from '../../core/headers.js';

/** Header names that collide in lower case, and ones that are object-prototype words. */
const NAME = fc.constantFrom(
  'Origin',
  'origin',
  'ORIGIN',
  'oRiGiN',
  'content-type',
  'Content-Type',
  '__proto__',
  'constructor',
  'originx',
  'x-origin',
);
const VALUE = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('https://a.example', 'https://b.example'));

/** An object keyed by client-chosen names, as the adapter and API Gateway build them (no prototype). */
const record = <T>(entries: readonly (readonly [string, T])[]): Record<string, T> => {
  const out = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) out[key] = value;
  return out;
};

const EVENT = fc.record({
  headers: fc.option(fc.array(fc.tuple(NAME, fc.option(VALUE, { nil: undefined })), { maxLength: 6 }).map(record), { nil: null }),
  multiValueHeaders: fc.option(
    fc.array(fc.tuple(NAME, fc.option(fc.array(VALUE, { maxLength: 3 }), { nil: undefined })), { maxLength: 6 }).map(record),
    { nil: null },
  ),
});

describe('headerValuesFromEvent', () => {
  it('gives exactly what headerMapFromEvent(event).get(name) gives, whatever the event', () => {
    fc.assert(
      fc.property(EVENT, fc.constantFrom('origin', 'content-type', '__proto__', 'constructor'), (event, name) => {
        const e = event as unknown as Parameters<typeof headerMapFromEvent>[0];
        expect(headerValuesFromEvent(e, name)).toEqual(headerMapFromEvent(e).get(name));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads multiValueHeaders when it has any key, headers otherwise', () => {
    const event = { headers: { Origin: 'https://a.example' }, multiValueHeaders: { 'X-Other': ['1'] } };
    expect(headerValuesFromEvent(event, 'origin')).toBeUndefined();
    expect(headerValuesFromEvent({ ...event, multiValueHeaders: {} }, 'origin')).toEqual(['https://a.example']);
    expect(headerValuesFromEvent({ headers: {}, multiValueHeaders: { ORIGIN: ['a'], origin: ['b'] } }, 'origin')).toEqual(['a', 'b']);
  });
});

describe('singleValue', () => {
  it('is the one value, undefined for none, null for two that differ', () => {
    expect(singleValue(undefined)).toBeUndefined();
    expect(singleValue([])).toBeUndefined();
    expect(singleValue(['a', 'a'])).toBe('a');
    expect(singleValue(['a', 'b'])).toBeNull();
  });
});
