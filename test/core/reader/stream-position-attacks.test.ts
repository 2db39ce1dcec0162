import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIGEST_POWERS, SentWindow, type SentDigest } from '../../../core/reader/stream-position.js';
import { seqOf } from '../../../core/stores/delivery-feed.js';

/** Hostile and unlucky digests given to SentWindow.restore: a window it returns must be exactly the one the digest names. */

const PRIME = (1n << 61n) - 1n;
const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => seqOf(1_796_000_000_000 + i, 'default', `${prefix}${i}`));
const windowOf = (seqs: readonly string[]): SentWindow => {
  const window = new SentWindow();
  for (const seq of seqs) window.add(seq);
  return window;
};

describe('SentWindow.restore given digests the client could not have had', () => {
  it('a digest of every key the client had, some no longer visible and as many late ones in their place, is never taken for a match', () => {
    const had = keys(40);
    const visible = [...had.slice(2), ...keys(2, 'late')];
    expect(SentWindow.restore(visible, windowOf(had).digest())).toBeUndefined();
  });

  it('any forged digest either restores a window whose digest is exactly the forged one, or none', () => {
    const digest = fc.record({
      count: fc.nat({ max: 60 }),
      sums: fc.array(fc.bigInt({ min: 0n, max: PRIME - 1n }), { minLength: DIGEST_POWERS, maxLength: DIGEST_POWERS }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), digest, (size, had: SentDigest) => {
        const restored = SentWindow.restore(keys(size), had);
        if (restored) expect(restored.digest()).toEqual(had);
      }),
      { numRuns: 300 },
    );
  });

  it('a digest of a subset names exactly the rest (never a key the subset holds) when at most DIGEST_POWERS are left out', () => {
    const visible = keys(700);
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 699 }), { minLength: 1, maxLength: DIGEST_POWERS }), (left) => {
        const out = new Set(left.map((i) => visible[i]));
        const restored = SentWindow.restore(visible, windowOf(visible.filter((k) => !out.has(k))).digest());
        expect(visible.filter((k) => !restored?.has(k))).toEqual(visible.filter((k) => out.has(k)));
      }),
      { numRuns: 30 },
    );
  });

  it('a huge count or a count above what is visible restores nothing (the window is sent again)', () => {
    const visible = keys(30);
    const had = windowOf(visible).digest();
    expect(SentWindow.restore(visible, { count: 10_000_000, sums: had.sums })).toBeUndefined();
    expect(SentWindow.restore(visible.slice(1), had)).toBeUndefined();
  });
});
