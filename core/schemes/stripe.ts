import { createHmac } from 'node:crypto';
import { addMac, withSignedId, matchAny } from './compare.js';
import { isJsonSpace, jsonPath, jsonStringAt } from './json-scan.js';
import { checkFreshness, matchedNoKey, nowSeconds, parseUnixSeconds } from './timestamp.js';
import type { SignatureScheme, VerifyResult } from './types.js';

const SIGNATURE = 'stripe-signature';
const T_NAME = `${SIGNATURE} t`;
const ID = jsonPath('id');
const TYPE = jsonPath('type');
/** The parts of `Stripe-Signature` this scheme uses: `t` (`null` when sent twice, differently) and the v1 MACs. */
interface SignatureHeader {
  readonly t: string | undefined | null;
  readonly v1: Buffer[];
}

/**
 * Reads `t=<secs>,v1=<hex>[,v1=...]` across every header value (duplicate
 * headers are one comma-separated list, as HTTP defines). `v0`, unknown keys and
 * malformed v1 entries are ignored; several v1 are normal while a rolled secret
 * is still active.
 */
const parseSignatureHeader = (values: readonly string[]): SignatureHeader => {
  let t: string | undefined | null;
  const v1: Buffer[] = [];
  for (const value of values) {
    // indexOf and slice rather than split and trim: this runs on every request.
    for (let start = 0; start < value.length;) {
      let end = value.indexOf(',', start);
      if (end < 0) end = value.length;
      while (value.charCodeAt(start) === 0x20) start++;
      let last = end;
      while (last > start && value.charCodeAt(last - 1) === 0x20) last--;
      if (value.startsWith('v1=', start)) addMac(v1, value.slice(start + 3, last), 'hex');
      else if (value.startsWith('t=', start)) {
        const text = value.slice(start + 2, last);
        t = t === undefined || t === text ? text : null;
      }
      start = end + 1;
    }
  }
  return { t, v1 };
};

/**
 * The event `id` when it is the body's first key, as Stripe writes it
 * (`{\n  "id": "evt_..."`): a first key is at the root by construction, so a
 * few byte checks replace a parse. `null` when the body is shaped otherwise, or
 * the value is not 1 to 256 printable ASCII characters without escapes.
 */
const leadingId = (body: Buffer): string | null => {
  let at = 0;
  while (isJsonSpace(body[at])) at++;
  if (body[at++] !== 0x7b) return null;
  while (isJsonSpace(body[at])) at++;
  // "id"
  if (body[at] !== 0x22 || body[at + 1] !== 0x69 || body[at + 2] !== 0x64 || body[at + 3] !== 0x22) return null;
  at += 4;
  while (isJsonSpace(body[at])) at++;
  if (body[at++] !== 0x3a) return null;
  while (isJsonSpace(body[at])) at++;
  if (body[at] !== 0x22) return null;
  const start = at + 1;
  for (at = start; at <= start + 256; at++) {
    const byte = body[at];
    if (byte === 0x22) return at === start ? null : body.toString('latin1', start, at);
    if (byte === undefined || byte < 0x21 || byte > 0x7e || byte === 0x5c) return null;
  }
  return null;
};

/** The root-level event `id` (`evt_...`), read only after the signature matched. */
const eventId = (body: Buffer): string | undefined => leadingId(body) ?? jsonStringAt(body, ID);

/**
 * Stripe: `Stripe-Signature: t=<secs>,v1=<hex>[,v1=...]` over `{t}.{body}`. The
 * key is the whole `whsec_...` string as UTF-8, NOT base64-decoded (unlike
 * Standard Webhooks). `t` is checked in both directions (stripe-node checks only
 * age). Each retry is re-signed with a new `t`, so the delivery id is the body's
 * event `id`, the same on every retry; a body without a usable one (1 to 256
 * printable ASCII characters) falls back to {@link signedId}.
 */
export const stripe: SignatureScheme = {
  name: 'stripe',
  keptHeaders: ['content-type', 'user-agent'],
  signatureHeaders: [SIGNATURE],

  decodeSecret(secret) {
    const text = secret.trim();
    if (text.startsWith('t=') || text.startsWith('v1=')) throw new Error('is a Stripe-Signature header, not a secret');
    if (text.startsWith('sk_') || text.startsWith('rk_') || text.startsWith('pk_')) {
      throw new Error('is a Stripe API key, not a webhook signing secret ("whsec_...")');
    }
    if (text.length < 8) throw new Error('is too short for a Stripe signing secret ("whsec_...")');
    return Buffer.from(text, 'utf8');
  },

  verify(request, keys, options): VerifyResult {
    const values = request.headers.get(SIGNATURE);
    if (!values?.length) return { ok: false, code: 'signature_invalid', reason: `missing ${SIGNATURE}` };
    const header = parseSignatureHeader(values);
    if (header.v1.length === 0) return { ok: false, code: 'signature_invalid', reason: `no well-formed v1 signature in ${SIGNATURE}` };
    if (header.t === undefined) return { ok: false, code: 'signature_invalid', reason: `no t in ${SIGNATURE}` };
    if (header.t === null) return { ok: false, code: 'signature_invalid', reason: `conflicting t values in ${SIGNATURE}` };
    const timestamp = parseUnixSeconds(header.t, T_NAME);
    if (typeof timestamp !== 'number') return timestamp;
    const match = matchAny(keys, header.v1, `${header.t}.`, request.body);
    if (match < 0) return matchedNoKey('no signature matches any secret', timestamp, options.nowSeconds, options.maxAgeSeconds);
    const stale = checkFreshness(timestamp, options.nowSeconds, options.maxAgeSeconds);
    if (stale) return stale;
    const id = eventId(request.body);
    return id
      ? { ok: true, deliveryId: id, timestampSeconds: timestamp }
      : withSignedId({ timestampSeconds: timestamp }, `${header.t}.`, request.body);
  },

  eventTypeOf: (request) => jsonStringAt(request.body, TYPE),

  /** The id is the body's; `input.id` is ignored. */
  sign(secret, input) {
    const timestamp = input.timestampSeconds ?? nowSeconds();
    const mac = createHmac('sha256', stripe.decodeSecret(secret)).update(`${timestamp}.`).update(input.body).digest('hex');
    return { 'Stripe-Signature': `t=${timestamp},v1=${mac}` };
  },
};
