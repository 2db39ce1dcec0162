import { createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality that never throws: unequal lengths are simply unequal. */
export const safeEqual = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes hex strictly; `undefined` for anything malformed (Buffer.from would silently truncate). */
export const decodeHex = (text: string): Buffer | undefined => (HEX.test(text) ? Buffer.from(text, 'hex') : undefined);

/**
 * Decodes a received MAC of `bytes` bytes on the hot path without a regex.
 * Node's decoders stop at (hex) or skip (base64) bad characters, so a garbled
 * value comes out short and is refused; a value that still yields the right
 * bytes is harmless, as it must equal the expected MAC anyway.
 */
export const decodeMac = (text: string, encoding: 'hex' | 'base64', bytes = 32): Buffer | undefined => {
  const expectedLength = encoding === 'hex' ? bytes * 2 : Math.ceil(bytes / 3) * 4;
  if (text.length !== expectedLength) return undefined;
  const mac = Buffer.from(text, encoding);
  return mac.length === bytes ? mac : undefined;
};

/** Decodes padded standard base64 strictly; `undefined` for anything malformed or empty. */
export const decodeBase64 = (text: string): Buffer | undefined =>
  text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;

/** HMAC-SHA256 over the parts in order, without concatenating them first. */
export const hmacSha256 = (key: Buffer, prefix: string, body: Buffer): Buffer => {
  const mac = createHmac('sha256', key);
  if (prefix.length > 0) mac.update(prefix);
  return mac.update(body).digest();
};

/** Whether any key's MAC over the message matches any candidate signature. Returns the matching candidate's index or -1. */
export const matchAny = (keys: readonly Buffer[], candidates: readonly Buffer[], prefix: string, body: Buffer): number => {
  let found = -1;
  for (const key of keys) {
    const expected = hmacSha256(key, prefix, body);
    // Compare against every candidate even after a match, so timing does not reveal which one matched.
    for (let i = 0; i < candidates.length; i++) if (safeEqual(expected, candidates[i] as Buffer) && found < 0) found = i;
  }
  return found;
};
