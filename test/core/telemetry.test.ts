import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printableForLog } from '../../core/telemetry.js';

const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('printableForLog', () => {
  it.each([
    ['/webhooks/default', '/webhooks/default'],
    ['\u001b[31mred', '\\x1b[31mred'],
    ['a\u009bb', 'a\\x9bb'],
    ['a\u202eb\u2066c', 'a\\u202eb\\u2066c'],
    ['line\u2028two\nthree', 'line\\u2028two\\x0athree'],
    ['back\\x1b', 'back\\\\x1b'],
    ['lone \ud800 surrogate', 'lone \\ud800 surrogate'],
    ['emoji 😀 kept', 'emoji 😀 kept'],
  ])('shows %j as %j', (raw, shown) => {
    expect(printableForLog(raw)).toBe(shown);
  });

  it('cuts to the bound and marks the cut', () => {
    expect(printableForLog('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(printableForLog('😀'.repeat(200), 10)).toBe(`${'😀'.repeat(9)}…`);
    expect(printableForLog('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });

  it('never returns an unprintable character or more than the bound, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer({ min: 2, max: 300 }), (text, max) => {
        const shown = printableForLog(text, max);
        expect(shown).not.toMatch(UNPRINTABLE);
        expect(Array.from(shown).length).toBeLessThanOrEqual(max);
      }),
      { numRuns: 500 },
    );
  });
});
