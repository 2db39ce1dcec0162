import { singleHeader, type HeaderMap } from '../headers.js';
import type { RejectedDelivery } from './types.js';

/** The value of a string of ASCII digits (no sign, space or decimal point), else -1. One loop: cheaper than a regex and Number(). */
const digitsValue = (text: string): number => {
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return text.length > 0 ? value : -1;
};

/**
 * The raw text of a timestamp header. Missing or sent twice with different
 * values is a garbled header (`signature_invalid`), checked before the value itself.
 */
export const timestampText = (headers: HeaderMap, name: string): string | RejectedDelivery => {
  const text = singleHeader(headers, name);
  if (typeof text === 'string') return text;
  return { ok: false, code: 'signature_invalid', reason: text === null ? `conflicting ${name} headers` : `missing ${name}` };
};

/**
 * Parses a signed Unix-seconds timestamp strictly. The caller has already
 * refused a missing header (`signature_invalid`); a present but malformed value
 * is `timestamp_invalid`, with a reason that names a millisecond value as such.
 * The reason never quotes the value (it is attacker-controlled log input).
 * @param name how to call the value in the reason, e.g. `webhook-timestamp`
 * @example parseUnixSeconds('1614265330', 'webhook-timestamp') // 1614265330
 */
export const parseUnixSeconds = (text: string, name: string): number | RejectedDelivery => {
  const value = text.length <= 13 ? digitsValue(text) : -1;
  // Up to 10 digits is Unix seconds until the year 2286; 13 is what Date.now() gives.
  if (value >= 0 && text.length <= 10) return value;
  if (value >= 0 && text.length === 13)
    return { ok: false, code: 'timestamp_invalid', reason: `${name} looks like milliseconds; Unix seconds expected` };
  return { ok: false, code: 'timestamp_invalid', reason: `${name} is not Unix seconds` };
};

/**
 * Refuses a timestamp further than `maxAgeSeconds` from now in either
 * direction: a future timestamp is as suspect as an old one (a captured
 * delivery signed ahead of time would otherwise outlive the window).
 */
export const checkFreshness = (timestamp: number, nowSeconds: number, maxAgeSeconds: number): RejectedDelivery | undefined => {
  const age = nowSeconds - timestamp;
  // A clock that gives no number (an injected `now` returning NaN or nothing) compared false both ways: every
  // timestamp, of any age, passed as fresh. Fail closed.
  if (!Number.isFinite(age) || !Number.isFinite(maxAgeSeconds))
    return { ok: false, code: 'timestamp_out_of_range', reason: "the server's clock gave no time to check the timestamp against" };
  if (age > maxAgeSeconds)
    return { ok: false, code: 'timestamp_out_of_range', reason: `timestamp is ${age} s old (limit ${maxAgeSeconds} s)` };
  if (-age > maxAgeSeconds)
    return { ok: false, code: 'timestamp_out_of_range', reason: `timestamp is ${-age} s in the future (limit ${maxAgeSeconds} s)` };
  return undefined;
};

/**
 * The refusal of a well-formed signature that matches no key. It is `noKeyMatched` (a key not
 * loaded yet could accept it: 503 while keys are stale) only when its timestamp is inside the
 * window: one outside is refused whatever the key, so it stays 401 `signature_invalid`.
 */
export const matchedNoKey = (reason: string, timestamp: number, nowSeconds: number, maxAgeSeconds: number): RejectedDelivery =>
  checkFreshness(timestamp, nowSeconds, maxAgeSeconds)
    ? { ok: false, code: 'signature_invalid', reason }
    : { ok: false, code: 'signature_invalid', reason, noKeyMatched: true };

/** Now in Unix seconds: only for signing, as verification takes the clock as an argument. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
