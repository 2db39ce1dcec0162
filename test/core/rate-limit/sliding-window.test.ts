import { describe, expect, it } from 'vitest';
import { admits, parseRateLimit, retryAfterSeconds, windowAt } from '../../../core/rate-limit/sliding-window.js';
import { poissonArrivals, simulate } from './simulation.js';

const LIMIT = 600;
const WINDOW = 60;

describe('parseRateLimit', () => {
  it.each([
    ['600/60s', { limit: 600, windowSeconds: 60 }],
    ['100/1m', { limit: 100, windowSeconds: 60 }],
    ['5000/1h', { limit: 5000, windowSeconds: 3600 }],
    ['10/s', { limit: 10, windowSeconds: 1 }],
  ])('parses %s', (text, expected) => {
    expect(parseRateLimit(text)).toEqual(expected);
  });

  it.each(['', '600', '600/60', 'ten/1m', '0/1m', '600/0s', '600/2d', '-1/1m'])('refuses %j', (text) => {
    expect(typeof parseRateLimit(text)).toBe('string');
  });
});

describe('the sliding-window counter', () => {
  it('weights the previous window by the part still inside the sliding window', () => {
    // 75% into the window, 400 admitted last window → 100 of them still count.
    expect(admits(600, 400, 499, 0.75)).toBe(true);
    expect(admits(600, 400, 500, 0.75)).toBe(false);
    expect(windowAt(150_000, 60)).toEqual({ index: 2, fraction: 0.5 });
  });

  it('says when to retry', () => {
    // Full window just ended: half the weight is gone halfway through this one.
    expect(retryAfterSeconds(600, 600, 0, 0, 60)).toBe(1);
    expect(retryAfterSeconds(600, 600, 300, 0.5, 60)).toBeGreaterThanOrEqual(1);
    expect(retryAfterSeconds(10, 0, 10, 0.5, 60)).toBeGreaterThan(30);
  });

  // Accuracy is measured against an exact sliding log over the same arrivals.
  it.each([0.5, 1, 1.1, 2, 3])('admits within 2%% of an exact sliding log at %s× the limit', (multiple) => {
    for (const seed of [1, 2, 3]) {
      const { counter, exact } = simulate(poissonArrivals(LIMIT * multiple, WINDOW, 100, seed), LIMIT, WINDOW);
      expect(Math.abs(counter - exact) / exact).toBeLessThanOrEqual(0.02);
    }
  });

  it('admits at most 1.05× the limit from a burst at a window boundary', () => {
    for (const spreadMs of [0, 10, 1000, 5000]) {
      // 3× the limit arriving within spreadMs around the boundary between windows 10 and 11.
      const boundary = 11 * WINDOW * 1000;
      const burst = Array.from({ length: 3 * LIMIT }, (_, i) => boundary - spreadMs / 2 + (i * spreadMs) / (3 * LIMIT));
      const { counter } = simulate(burst, LIMIT, WINDOW);
      expect(counter).toBeLessThanOrEqual(1.05 * LIMIT);
      expect(counter).toBeGreaterThanOrEqual(LIMIT * 0.95);
    }
  });
});
