import type { HeaderMap } from '../../../../functions/shared/headers';
import type { SignatureScheme, VerifyResult } from '../../../../functions/shared/schemes/types';

/** Lower-cases header names into a HeaderMap, as API Gateway events are normalized. */
export const headerMap = (headers: Record<string, string | string[]>): HeaderMap =>
  new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));

/** Verifies with the scheme's own decoded keys. */
export const verifyWith = (
  scheme: SignatureScheme,
  secrets: readonly string[],
  headers: Record<string, string | string[]>,
  body: string | Buffer,
  nowSeconds: number,
  maxAgeSeconds = 300,
): VerifyResult =>
  scheme.verify(
    { headers: headerMap(headers), body: typeof body === 'string' ? Buffer.from(body) : body },
    secrets.map((s) => scheme.decodeSecret(s)),
    { nowSeconds, maxAgeSeconds },
  );

/** Flips one bit of one byte. */
export const flipByte = (body: string, index = 0): Buffer => {
  const bytes = Buffer.from(body);
  bytes[index] = (bytes[index] as number) ^ 0x01;
  return bytes;
};
