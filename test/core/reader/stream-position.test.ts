import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCursor, seqCeiling, seqFloor, seqOf } from '../../../core/stores/delivery-feed.js';
import {
  aheadOfClock,
  CLOCK_ALLOWANCE_MS,
  decodeStreamId,
  DIGEST_POWERS,
  encodeStreamId,
  openingAt,
  SentWindow,
  type StreamPosition,
} from '../../../core/reader/stream-position.js';

const keys = (n: number, fromMs = 1_796_000_000_000) =>
  Array.from({ length: n }, (_, i) => seqOf(fromMs + Math.floor(i / 3), i % 2 ? 'billing' : 'default', `msg_${i}`));

const windowOf = (seqs: readonly string[]): SentWindow => {
  const window = new SentWindow();
  for (const seq of seqs) window.add(seq);
  return window;
};

describe('SentWindow.restore: which deliveries of a window a client was not sent', () => {
  it('names every missing key, up to DIGEST_POWERS of them, in windows of any size', () => {
    const cases = fc.integer({ min: 0, max: 300 }).chain((size) =>
      fc.record({
        visible: fc.constant(keys(size + DIGEST_POWERS)),
        // Missing keys anywhere in the window, not only at its end.
        missing: fc.uniqueArray(fc.nat({ max: size + DIGEST_POWERS - 1 }), { maxLength: DIGEST_POWERS }),
      }),
    );
    fc.assert(
      fc.property(cases, ({ visible, missing }) => {
        const gone = new Set(missing.map((i) => visible[i]));
        const had = windowOf(visible.filter((seq) => !gone.has(seq))).digest();
        const restored = SentWindow.restore(visible, had);
        expect(restored).toBeDefined();
        expect(visible.filter((seq) => !restored?.has(seq))).toEqual(visible.filter((seq) => gone.has(seq)));
        expect(restored?.digest()).toEqual(had);
      }),
      { numRuns: 200 },
    );
  });

  it('cannot tell, and says so, when more keys are missing than it can name', () => {
    const visible = keys(50);
    const had = windowOf(visible.slice(DIGEST_POWERS + 1)).digest();
    expect(SentWindow.restore(visible, had)).toBeUndefined();
  });

  it('cannot tell when a key the client had is no longer visible (expired, or another source filter)', () => {
    const visible = keys(20);
    const had = windowOf([...visible.slice(1), seqOf(1_796_000_000_005, 'default', 'gone')]).digest();
    // Same count as visible less one, different keys: never taken for a match.
    expect(SentWindow.restore(visible.slice(1), had)).toBeUndefined();
    expect(SentWindow.restore(visible, had)).toBeUndefined();
  });

  it('keeps its digest equal to a window built from scratch as keys leave it, late keys added out of order included', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(keys(60), { minLength: 60 }), fc.nat({ max: 59 }), (added, cut) => {
        // Mostly ascending, as a stream adds them, with some late ones among them.
        const order = [...added].sort().map((seq, i) => (i % 7 === 3 ? (added[i] as string) : seq));
        const window = new SentWindow();
        for (const seq of order) window.add(seq);
        const lower = [...added].sort()[cut] as string;
        window.dropUpTo(lower);
        const left = [...new Set(order)].filter((seq) => seq > lower);
        expect(window.digest()).toEqual(windowOf(left).digest());
        for (const seq of order) expect(window.has(seq)).toBe(seq > lower);
      }),
    );
  });
});

describe('stream ids: encodeStreamId / decodeStreamId', () => {
  const at: StreamPosition = {
    lower: seqFloor(1_796_000_000_000),
    position: seqOf(1_796_000_030_000, 'stripe', 'evt_|"\n∑'),
    sent: windowOf(keys(7)).digest(),
  };

  it('round-trips a position, and its id is URL-safe', () => {
    const id = encodeStreamId(at);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeStreamId(id)).toEqual(at);
    expect(decodeStreamId(encodeStreamId(openingAt(seqCeiling(1_796_000_000_000))))).toEqual(openingAt(seqCeiling(1_796_000_000_000)));
  });

  it('still takes a first-version id (a bare cursor): resumes after it, with an empty window', () => {
    const seq = seqOf(1_796_000_000_000, 'default', 'msg_1');
    expect(decodeStreamId(encodeCursor(seq))).toEqual(openingAt(seq));
  });

  const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const sums = (n: bigint) => Array.from({ length: DIGEST_POWERS }, () => n.toString(36)).join('.');
  it.each([
    ['garbage', 'garbage'],
    ['another version', json([3, at.lower, at.position, 0, sums(0n)])],
    ['a window upside down', json([2, at.position, at.lower, 0, sums(0n)])],
    ['a bound that is no sort key', json([2, 'x', at.position, 0, sums(0n)])],
    ['a negative count', json([2, at.lower, at.position, -1, sums(0n)])],
    ['a fractional count', json([2, at.lower, at.position, 1.5, sums(1n)])],
    ['too few sums', json([2, at.lower, at.position, 1, '1.1'])],
    ['a sum outside the field', json([2, at.lower, at.position, 1, sums(2n ** 61n)])],
    ['sums with nothing counted', json([2, at.lower, at.position, 0, sums(1n)])],
    ['extra fields', json([2, at.lower, at.position, 0, sums(0n), 'x'])],
    ['not the canonical encoding', `${encodeStreamId(at)}A`],
    ['an object', json({ lower: at.lower })],
    ['too long', 'A'.repeat(9_000)],
  ])('refuses %s', (_, text) => {
    expect(decodeStreamId(text)).toBeUndefined();
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        decodeStreamId(text);
        decodeStreamId(Buffer.from(text, 'utf8').toString('base64url'));
      }),
    );
  });
});

describe('aheadOfClock: a position the clock has not reached', () => {
  const NOW = 1_796_000_000_000;
  const at = (positionMs: number, lowerMs = positionMs - 30_000): StreamPosition => ({
    lower: seqFloor(lowerMs),
    position: seqOf(positionMs, 'default', 'msg_1'),
    sent: windowOf(keys(2, lowerMs + 1)).digest(),
  });

  it.each([
    ['a position in the past', at(NOW - 5_000), false],
    ['a position at now', at(NOW), false],
    [`a position up to ${CLOCK_ALLOWANCE_MS} ms ahead (another server's clock)`, at(NOW + CLOCK_ALLOWANCE_MS), false],
    ['a position just past the allowance', at(NOW + CLOCK_ALLOWANCE_MS + 1), true],
    ['a position an hour ahead (the clock stepped back since)', at(NOW + 3_600_000), true],
    ['an opening position ahead', openingAt(seqCeiling(NOW + 60_000)), true],
    ['a first-version id ahead', decodeStreamId(encodeCursor(seqOf(NOW + 60_000, 'default', 'msg_1'))) as StreamPosition, true],
    ['the highest position an id can name', decodeStreamId(encodeStreamId(openingAt('9999999999999#~'))) as StreamPosition, true],
  ])('%s: %s', (_, position, ahead) => {
    expect(aheadOfClock(position, NOW)).toBe(ahead);
  });
});
