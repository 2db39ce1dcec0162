import type { RejectedDelivery } from './types';

const SECONDS = /^\d{1,10}$/;

/**
 * Parses a Unix-seconds timestamp strictly (digits only, at most 10). A 13-digit
 * value is a millisecond timestamp: refused as `timestamp_invalid`, never a crash.
 */
export const parseUnixSeconds = (raw: string | undefined | null, header: string): number | RejectedDelivery => {
  if (raw === undefined) return { ok: false, code: 'signature_invalid', reason: `missing ${header}` };
  if (raw === null) return { ok: false, code: 'signature_invalid', reason: `conflicting ${header} headers` };
  const text = raw.trim();
  if (SECONDS.test(text)) return Number(text);
  if (/^\d{13}$/.test(text)) return { ok: false, code: 'timestamp_invalid', reason: `${header} looks like milliseconds; Unix seconds expected` };
  return { ok: false, code: 'timestamp_invalid', reason: `${header} is not Unix seconds` };
};

/** Refuses a timestamp further than `maxAgeSeconds` from now, in either direction. */
export const checkFreshness = (timestamp: number, nowSeconds: number, maxAgeSeconds: number): RejectedDelivery | undefined => {
  const skew = nowSeconds - timestamp;
  if (skew > maxAgeSeconds) return { ok: false, code: 'timestamp_out_of_range', reason: `timestamp is ${skew} s old (limit ${maxAgeSeconds} s)` };
  if (-skew > maxAgeSeconds) return { ok: false, code: 'timestamp_out_of_range', reason: `timestamp is ${-skew} s in the future (limit ${maxAgeSeconds} s)` };
  return undefined;
};

/** Now in Unix seconds (only for signing; verification takes the clock as an argument). */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
