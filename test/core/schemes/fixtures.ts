import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { HeaderMap } from '../../../core/headers.js';
import type { SignatureScheme, VerifyResult } from '../../../core/schemes/types.js';

/** Now, for fixtures signed "now"; every verification below passes it explicitly. */
export const NOW = Math.floor(Date.now() / 1000);

/** Lower-cases header names into a HeaderMap, as the API Gateway adapter does. */
export const headerMap = (headers: Record<string, string | string[]>): HeaderMap =>
  new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));

/**
 * Verifies with keys decoded by the scheme itself, as the signature middleware
 * does at cold start. The result is copied into a plain object with its
 * `deliveryId` read, so `toEqual` sees it (a signed-bytes id is a getter on the prototype).
 */
export const verifyWith = (
  scheme: SignatureScheme,
  secrets: readonly string[],
  headers: Record<string, string | string[]>,
  body: string | Buffer,
  nowSeconds: number = NOW,
  maxAgeSeconds = 300,
): VerifyResult => {
  const result = scheme.verify(
    { headers: headerMap(headers), body: typeof body === 'string' ? Buffer.from(body) : body },
    secrets.map((s) => scheme.decodeSecret(s)),
    { nowSeconds, maxAgeSeconds },
  );
  return result.ok ? { ...result, deliveryId: result.deliveryId } : result;
};

/** Flips one bit of one byte of the body. */
export const flipByte = (body: string, index = 0): Buffer => {
  const bytes = Buffer.from(body);
  bytes[index] = (bytes[index] as number) ^ 0x01;
  return bytes;
};

/**
 * Asserts a refusal with `code`, whose reason names none of `secrets` nor any
 * signature value sent (each signature header value, and its MAC part alone).
 */
export const expectRefused = (result: VerifyResult, code: string, leaks: readonly string[] = []): void => {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.reason.length).toBeGreaterThan(0);
  for (const leak of leaks) if (leak.length >= 8) expect(result.reason).not.toContain(leak);
};

/** Every signature-looking piece of a header value (`v1,<mac>`, `v1=<mac>`, `sha256=<mac>`, a bare MAC). */
export const signatureParts = (value: string): string[] => [value, ...value.split(/[ ,=]+/)].filter((part) => part.length >= 16);

/**
 * The replay key Hookwarden derives where the signature covers no id (an
 * independent statement of the rule): `sig_` and 128 bits of SHA-256 over a
 * domain tag and the signed bytes.
 */
export const signedIdOf = (signed: string | Buffer): string =>
  `sig_${createHash('sha256').update('hookwarden.signed-id.v1\0').update(signed).digest('hex').slice(0, 32)}`;
