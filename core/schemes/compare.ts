import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { VerifiedDelivery } from './types.js';

/** Bytes in an HMAC-SHA256. */
export const MAC_BYTES = 32;

/**
 * Constant-time equality that never throws: `timingSafeEqual` throws on unequal
 * lengths, which would turn a bad signature into a 500, so lengths go first
 * (the length of a MAC is public anyway).
 */
export const safeEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

const HEX = /^(?:[0-9a-f]{2})+$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * Decodes hex strictly: `undefined` for empty, odd-length or non-hex text
 * (`Buffer.from` would silently stop at the first bad character).
 */
export const decodeHex = (text: string): Buffer | undefined => (text.length > 0 && HEX.test(text) ? Buffer.from(text, 'hex') : undefined);

/**
 * Decodes padded standard base64 strictly: `undefined` for empty text, the
 * URL-safe alphabet, missing padding or stray characters (`Buffer.from` skips them).
 */
export const decodeBase64 = (text: string): Buffer | undefined =>
  text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;

/**
 * Decodes one received HMAC-SHA256 as strictly as {@link decodeHex} and
 * {@link decodeBase64}, cheaply enough for every request: `undefined` when
 * malformed or of another length, so a bad signature is a non-match, never a
 * throw. With `into`, the bytes are written there instead of a new buffer.
 */
export const decodeMac = (text: string, encoding: 'hex' | 'base64', into?: Buffer): Buffer | undefined => {
  const length = encoding === 'hex' ? MAC_BYTES * 2 : 44;
  // Node decodes only the low byte of a character above U+00FF, so non-ASCII text is refused first.
  if (text.length !== length || Buffer.byteLength(text, 'utf8') !== length) return undefined;
  // Of base64 text, 44 characters ending in "=" is the only padded spelling of 32
  // bytes; Node's alphabet adds only the URL-safe "-" and "_" to the standard one.
  if (encoding === 'base64' && (text.charCodeAt(43) !== 0x3d || text.includes('-') || text.includes('_'))) return undefined;
  // Node stops at the first bad hex pair and skips bad base64 characters, so 32
  // bytes out of ASCII text of exactly that length proves every character valid.
  if (into) return into.write(text, 0, MAC_BYTES, encoding) === MAC_BYTES ? into : undefined;
  const mac = Buffer.from(text, encoding);
  return mac.length === MAC_BYTES ? mac : undefined;
};

/**
 * Where the first received MAC of a verification is decoded: nearly every
 * delivery carries one, and decoding in place saves an allocation (~0.15 µs, 5%
 * of a 1 KiB verification). Safe because verification is synchronous and reads
 * its MACs first: no two verifications hold it at once.
 */
const firstMac = Buffer.alloc(MAC_BYTES);

/**
 * Decodes `text` and appends it to the MACs of the current verification; a
 * malformed one is left out. The list is valid until the next verification
 * starts, so it must never be kept.
 */
export const addMac = (macs: Buffer[], text: string, encoding: 'hex' | 'base64'): void => {
  const mac = decodeMac(text, encoding, macs.length === 0 ? firstMac : undefined);
  if (mac) macs.push(mac);
};

/**
 * The MACs in every value of a one-signature-per-value header (GitHub, Slack,
 * Shopify, generic hmac), via {@link addMac}: `undefined` when the header is
 * absent, empty when every value is garbled. Duplicated headers are all tried
 * rather than refused: a forger gains nothing from extra wrong values.
 */
export const decodeMacs = (values: readonly string[] | undefined, prefix: string, encoding: 'hex' | 'base64'): Buffer[] | undefined => {
  if (values === undefined || values.length === 0) return undefined;
  const macs: Buffer[] = [];
  for (const value of values) if (value.startsWith(prefix)) addMac(macs, value.slice(prefix.length), encoding);
  return macs;
};

/**
 * Where {@link matchAny} puts each expected MAC. Node 20 allocates `digest()`'s
 * Buffer in C++, ~0.4 µs a call (15% of a 1 KiB verification); a `binary`
 * digest (latin1: one character per byte) copied here holds the same bytes for
 * far less. Safe to share: verification is synchronous and the buffer never
 * leaves `matchAny`.
 */
const expected = Buffer.alloc(MAC_BYTES);

/**
 * Each key as a KeyObject, made on first use. Node 24 (the Lambda runtime)
 * imports a Buffer key into OpenSSL on every `createHmac`: 34k HMACs/s over
 * 1 KiB against 234k/s with a KeyObject, measured on the same machine (Node 20
 * runs both at the same speed). Keys are decoded once at cold start, so the
 * same Buffer comes back on every request; a WeakMap lets a dropped key go.
 */
const keyObjects = new WeakMap<Buffer, KeyObject>();
const keyObjectOf = (key: Buffer): KeyObject => {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = createSecretKey(key);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
};

/**
 * Tries every key against every candidate MAC over `head + body + tail` (strings
 * as UTF-8), fed to the HMAC in parts so the body is never copied or decoded to
 * a string.
 * @returns the index of a matching candidate, or -1
 */
export const matchAny = (keys: readonly Buffer[], candidates: readonly Buffer[], head: string, body: Buffer, tail = ''): number => {
  let found = -1;
  for (const key of keys) {
    const mac = createHmac('sha256', keyObjectOf(key));
    if (head.length > 0) mac.update(head);
    mac.update(body);
    if (tail.length > 0) mac.update(tail);
    const digest = mac.digest('binary');
    // A plain loop: Buffer#write's argument handling costs more than copying 32 bytes.
    for (let i = 0; i < MAC_BYTES; i++) expected[i] = digest.charCodeAt(i);
    // Every candidate is compared even after a match, so timing does not tell which one matched.
    for (let i = 0; i < candidates.length; i++) {
      if (safeEqual(expected, candidates[i] as Buffer) && found < 0) found = i;
    }
  }
  return found;
};

const SIGNED_ID_DOMAIN = 'hookwarden.signed-id.v1\0';

/**
 * The replay key of a delivery whose signature covers no id of its own (or
 * only an unsigned one): `sig_` and the first 128 bits of SHA-256 over the
 * signed bytes (`head`, `body`, `tail` as {@link matchAny} takes them).
 * One-way, so it may be logged and returned, unlike the MAC; independent of
 * the key, so a redelivery signed after a key rotation is still a duplicate;
 * 128 bits, so two different messages never collide in practice (a collision
 * would drop a delivery as a duplicate).
 * @example signedId('', body) // 'sig_3f1c…' (32 hex characters)
 */
export const signedId = (head: string, body: Buffer, tail = ''): string => {
  const hash = createHash('sha256').update(SIGNED_ID_DOMAIN);
  if (head.length > 0) hash.update(head);
  hash.update(body);
  if (tail.length > 0) hash.update(tail);
  return `sig_${hash.digest('hex').slice(0, 32)}`;
};

/** What a scheme knows of a delivery besides its replay key. */
export interface DeliveryFields {
  readonly providerId?: string | undefined;
  readonly eventType?: string | undefined;
  readonly timestampSeconds?: number | undefined;
}

/**
 * A verified delivery whose `deliveryId` is {@link signedId} of the signed
 * bytes, hashed on first read: verification itself stays one HMAC pass over
 * the body (what a flood of forged requests costs). The id is a getter on the
 * prototype, not an own property: an object literal with a getter, or one made
 * with `Object.defineProperty`, costs ~2 µs to build in V8 (half a 1 KiB
 * verification, measured), a class instance ~0.1 µs. So read `deliveryId`;
 * `{ ...result }` would leave it out (`JSON.stringify` keeps it, via `toJSON`).
 */
class SignedBytesDelivery implements VerifiedDelivery {
  readonly ok = true as const;
  declare readonly providerId?: string;
  declare readonly eventType?: string;
  declare readonly timestampSeconds?: number;
  readonly #head: string;
  readonly #body: Buffer;
  readonly #tail: string;
  #id: string | undefined;

  constructor(fields: DeliveryFields, head: string, body: Buffer, tail: string) {
    // Only the fields present become properties, as in the literals the other schemes return.
    if (fields.providerId !== undefined) (this as { providerId?: string }).providerId = fields.providerId;
    if (fields.eventType !== undefined) (this as { eventType?: string }).eventType = fields.eventType;
    if (fields.timestampSeconds !== undefined) (this as { timestampSeconds?: number }).timestampSeconds = fields.timestampSeconds;
    this.#head = head;
    this.#body = body;
    this.#tail = tail;
  }

  get deliveryId(): string {
    return (this.#id ??= signedId(this.#head, this.#body, this.#tail));
  }

  toJSON(): VerifiedDelivery {
    return { ...this, deliveryId: this.deliveryId };
  }
}

/**
 * A verified delivery with `fields` whose replay key is {@link signedId} of the
 * signed bytes (`head`, `body`, `tail` as {@link matchAny} takes them), hashed
 * on first read; see {@link SignedBytesDelivery} for why it is a class.
 */
export const withSignedId = (fields: DeliveryFields, head: string, body: Buffer, tail = ''): VerifiedDelivery =>
  new SignedBytesDelivery(fields, head, body, tail);
