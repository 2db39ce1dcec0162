import { createHmac, randomBytes } from 'node:crypto';
import { addMac, decodeBase64, matchAny } from './compare.js';
import { idFromHeader } from './ids.js';
import { jsonPath, jsonStringAt } from './json-scan.js';
import { checkFreshness, matchedNoKey, nowSeconds, parseUnixSeconds, timestampText } from './timestamp.js';
import type { SignatureScheme, VerifyResult } from './types.js';

const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 16;

/** The standard header names, and the `svix-*` ones Svix also sends; built once, not per request. */
const STANDARD = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;
const SVIX = { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' } as const;
const TYPE = jsonPath('type');

/**
 * The `v1,` (HMAC-SHA256) entries of every header value. Entries are
 * space-separated; `v1a,` (ed25519), unknown versions and malformed MACs are
 * skipped, as the reference library does, so one bad entry cannot hide a good one.
 */
const v1Signatures = (values: readonly string[]): Buffer[] => {
  const found: Buffer[] = [];
  for (const value of values) {
    // indexOf rather than split: no array per request for the usual single entry.
    for (let start = 0; start < value.length;) {
      let end = value.indexOf(' ', start);
      if (end < 0) end = value.length;
      if (value.startsWith('v1,', start)) addMac(found, value.slice(start + 3, end), 'base64');
      start = end + 1;
    }
  }
  return found;
};

/**
 * Standard Webhooks (Svix, Clerk, Resend, ...): HMAC-SHA256 over
 * `{id}.{timestamp}.{body}`, base64, sent as space-separated `v1,<mac>` entries.
 * The secret is `whsec_` + base64 key bytes. The delivery id is `webhook-id`
 * (the same on every retry, and signed); a malformed one is refused rather than
 * replaced, since it is the sender's own nonce. The event type is the body's
 * `type`, read by {@link SignatureScheme.eventTypeOf} only after verification.
 */
export const standardWebhooks: SignatureScheme = {
  name: 'standard-webhooks',
  keptHeaders: ['content-type', 'user-agent', 'webhook-id', 'svix-id'],
  signatureHeaders: [STANDARD.signature, SVIX.signature],

  decodeSecret(secret) {
    const text = secret.trim();
    if (text.startsWith('v1,')) throw new Error('is a signature (starts with "v1,"), not a secret');
    const key = decodeBase64(text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : text);
    if (!key) throw new Error('is not a Standard Webhooks secret ("whsec_" followed by padded base64)');
    // Worded as decodeKey words it for every other scheme, so one short key reads the same whatever its scheme.
    if (key.length < MIN_KEY_BYTES) {
      throw new Error(`has ${key.length} byte${key.length === 1 ? '' : 's'} of key material; at least ${MIN_KEY_BYTES} are needed`);
    }
    return key;
  },

  verify(request, keys, options): VerifyResult {
    const { headers } = request;
    // Svix's names only when the standard signature is absent: one family per request, never a mix.
    let names: typeof STANDARD | typeof SVIX = STANDARD;
    let values = headers.get(STANDARD.signature);
    if (values === undefined && headers.has(SVIX.signature)) {
      names = SVIX;
      values = headers.get(SVIX.signature);
    }
    if (!values?.length) return { ok: false, code: 'signature_invalid', reason: `missing ${names.signature}` };
    const signatures = v1Signatures(values);
    if (signatures.length === 0)
      return { ok: false, code: 'signature_invalid', reason: `no well-formed v1 signature in ${names.signature}` };
    const id = idFromHeader(headers, names.id);
    if (id === undefined) return { ok: false, code: 'signature_invalid', reason: `missing ${names.id}` };
    if (typeof id !== 'string') return id;
    const text = timestampText(headers, names.timestamp);
    if (typeof text !== 'string') return text;
    const timestamp = parseUnixSeconds(text, names.timestamp);
    if (typeof timestamp !== 'number') return timestamp;
    // The timestamp is signed as the text received, never re-serialized.
    if (matchAny(keys, signatures, `${id}.${text}.`, request.body) < 0) {
      return matchedNoKey('no signature matches any secret', timestamp, options.nowSeconds, options.maxAgeSeconds);
    }
    return (
      checkFreshness(timestamp, options.nowSeconds, options.maxAgeSeconds) ?? { ok: true, deliveryId: id, timestampSeconds: timestamp }
    );
  },

  eventTypeOf: (request) => jsonStringAt(request.body, TYPE),

  sign(secret, input) {
    const id = input.id ?? `msg_${randomBytes(12).toString('hex')}`;
    const timestamp = input.timestampSeconds ?? nowSeconds();
    const mac = createHmac('sha256', standardWebhooks.decodeSecret(secret))
      .update(`${id}.${timestamp}.`)
      .update(input.body)
      .digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}` };
  },
};
