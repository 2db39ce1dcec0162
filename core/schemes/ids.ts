import type { HeaderMap } from '../headers.js';
import { singleHeader } from '../headers.js';
import type { RejectedDelivery } from './types.js';

const PRINTABLE = /^[\x21-\x7e]{1,256}$/;

/** Whether a delivery id is usable as a key: 1 to 256 printable ASCII characters, no spaces. */
export const isValidId = (id: string): boolean => PRINTABLE.test(id);

/**
 * Reads a delivery-id header. Absent: `undefined` (the caller falls back to the
 * signature). Present but malformed or ambiguous: a rejection.
 */
export const idFromHeader = (headers: HeaderMap, name: string): string | undefined | RejectedDelivery => {
  const id = singleHeader(headers, name);
  if (id === undefined) return undefined;
  if (id === null || !isValidId(id)) return { ok: false, code: 'signature_invalid', reason: `${name} is malformed` };
  return id;
};

/** Parses a JSON object body after verification; `undefined` when it is not one. */
export const jsonObject = (body: Buffer): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** A string property, when present and usable as an id or type. */
export const stringField = (value: unknown, key: string): string | undefined => {
  const field = (value as Record<string, unknown> | undefined)?.[key];
  return typeof field === 'string' && isValidId(field) ? field : undefined;
};
