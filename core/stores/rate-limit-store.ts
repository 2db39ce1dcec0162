import type { RateLimit } from '../rate-limit/sliding-window.js';

/** The answer for one request against one limit. */
export interface RateDecision {
  readonly admitted: boolean;
  readonly limit: number;
  readonly windowSeconds: number;
  /** Units (requests, unless counted with a cost) still admitted now (0 when refused). */
  readonly remaining: number;
  /** Seconds until a refused request (its cost) would be admitted (for `Retry-After`). */
  readonly retryAfterSeconds: number;
  /** Undoes this admission (the request was not processed after all: a duplicate, another limit refused it). */
  readonly undo: () => Promise<void>;
}

/**
 * Sliding-window rate limiting. Implementations count admitted requests only,
 * and in steady state make one write per admitted request and no read.
 */
export interface RateLimiter {
  /**
   * Counts one request against `key` if the limit admits it; with `cost`, that many units at once (all or none:
   * admitted when they all fit), so a limit can count work (items read) rather than requests. @default cost 1
   * @throws RangeError for a cost that is not a whole number from 1 to `rate.limit`
   */
  hit(key: string, rate: RateLimit, nowMs: number, cost?: number): Promise<RateDecision>;
}
