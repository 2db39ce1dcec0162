import type * as Crypto from 'node:crypto';
import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// No timed tests (the machine is shared): instead, prove the compare is the
// constant-time one and that its number of calls does not depend on where a match is.
const calls = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.count += 1;
      return actual.timingSafeEqual(a, b);
    },
  };
});
const { matchAny, safeEqual } = await import('../../../core/schemes/compare.js');

const keys = [Buffer.from('key-one'), Buffer.from('key-two')];
const body = Buffer.from('{"hello":"world"}');
const macOf = (key: Buffer) => createHmac('sha256', key).update('head.').update(body).digest();
const wrong = Buffer.alloc(32, 7);

describe('timing of the signature compare', () => {
  beforeEach(() => {
    calls.count = 0;
  });

  it('compares every candidate with every key through crypto.timingSafeEqual, wherever the match is', () => {
    const counts = [
      [macOf(keys[0] as Buffer), wrong, wrong],
      [wrong, wrong, macOf(keys[1] as Buffer)],
      [wrong, wrong, wrong],
    ].map((candidates) => {
      calls.count = 0;
      matchAny(keys, candidates, 'head.', body);
      return calls.count;
    });
    expect(counts).toEqual([6, 6, 6]);
  });

  it('refuses a MAC of another length without calling timingSafeEqual (which would throw: a 500)', () => {
    expect(safeEqual(Buffer.alloc(32), Buffer.alloc(31))).toBe(false);
    expect(calls.count).toBe(0);
    expect(safeEqual(Buffer.alloc(32), Buffer.alloc(32))).toBe(true);
    expect(calls.count).toBe(1);
  });
});
