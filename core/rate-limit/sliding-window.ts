/** A limit: at most `limit` admitted requests in any `windowSeconds`. */
export interface RateLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

const RATE = /^\s*(\d{1,9})\s*\/\s*(\d{1,6})?\s*(s|m|h)\s*$/;
const UNIT = { s: 1, m: 60, h: 3600 } as const;

/**
 * Parses `600/60s`, `100/1m`, `5000/1h` (`/s` means one second).
 * @returns the limit, or a problem description
 */
export const parseRateLimit = (text: string): RateLimit | string => {
  const match = RATE.exec(text);
  if (!match) return `"${text}" is not a rate like 600/60s, 100/1m or 5000/1h`;
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2] ?? '1') * UNIT[match[3] as keyof typeof UNIT];
  if (limit < 1) return `"${text}": the count must be at least 1`;
  if (windowSeconds < 1 || windowSeconds > 86_400) return `"${text}": the window must be 1 s to 24 h`;
  return { limit, windowSeconds };
};

/** Where `nowMs` falls: the window's index and the elapsed fraction of it. */
export const windowAt = (nowMs: number, windowSeconds: number): { readonly index: number; readonly fraction: number } => {
  const windowMs = windowSeconds * 1000;
  const index = Math.floor(nowMs / windowMs);
  return { index, fraction: (nowMs - index * windowMs) / windowMs };
};

/**
 * The sliding-window counter: the previous window's count weighted by the part
 * of it still inside the sliding window, plus the current window's count. A
 * request is admitted when the current count is below this threshold.
 */
export const admitThreshold = (limit: number, previousCount: number, fraction: number): number => limit - previousCount * (1 - fraction);

/** Whether a request is admitted with `currentCount` already admitted in this window. */
export const admits = (limit: number, previousCount: number, currentCount: number, fraction: number): boolean =>
  currentCount + 1 <= admitThreshold(limit, previousCount, fraction) + 1e-9;

/** Seconds until the estimate drops enough to admit one more (at least 1), for `Retry-After`. */
export const retryAfterSeconds = (
  limit: number,
  previousCount: number,
  currentCount: number,
  fraction: number,
  windowSeconds: number,
): number => {
  // Admission needs previous × (1 − f') + current + 1 ≤ limit at a later fraction f' of this window…
  if (previousCount > 0) {
    const needed = 1 - (limit - currentCount - 1) / previousCount;
    if (needed <= 1) return Math.max(1, Math.ceil((needed - fraction) * windowSeconds));
  }
  // …or, failing that, the next window, where this window's count becomes the weighted one.
  const next = 1 - (limit - 1) / Math.max(currentCount, 1);
  return Math.max(1, Math.ceil((1 - fraction + Math.max(0, next)) * windowSeconds));
};
