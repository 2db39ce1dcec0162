import { createHmac, randomBytes } from 'node:crypto';
import { singleHeader, type HeaderMap } from '../headers';
import { decodeBase64, decodeMac, matchAny } from './compare';
import { isValidId, jsonObject, stringField } from './ids';
import { checkFreshness, nowSeconds, parseUnixSeconds } from './timestamp';
import type { SignatureScheme, VerifyResult } from './types';

const SECRET_PREFIX = 'whsec_';

/** Which header family a request uses: `webhook-*`, else Svix's `svix-*`. */
const family = (headers: HeaderMap): 'webhook' | 'svix' => (headers.has('webhook-signature') || !headers.has('svix-signature') ? 'webhook' : 'svix');

/** The v1 (HMAC-SHA256) signatures of every header value; v1a (ed25519) and unknown versions are skipped. */
const v1Signatures = (values: readonly string[]): Buffer[] => {
  const found: Buffer[] = [];
  for (const value of values) {
    for (const entry of value.split(' ')) {
      if (!entry.startsWith('v1,')) continue;
      const mac = decodeMac(entry.slice(3), 'base64');
      if (mac?.length === 32) found.push(mac);
    }
  }
  return found;
};

/**
 * Standard Webhooks (Svix, Clerk, Resend, ...): `{id}.{timestamp}.{body}`,
 * HMAC-SHA256, base64, `v1,` entries space-separated; the secret is `whsec_` +
 * base64 key bytes. The delivery id is `webhook-id` (same on every retry).
 */
export const standardWebhooks: SignatureScheme = {
  name: 'standard-webhooks',
  keptHeaders: ['content-type', 'user-agent', 'webhook-id', 'svix-id'],

  decodeSecret(secret) {
    const text = secret.trim();
    if (text.startsWith('v1,')) throw new Error('is a signature (starts with "v1,"), not a secret');
    const encoded = text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : text;
    const key = decodeBase64(encoded);
    if (!key) throw new Error('is not a Standard Webhooks secret ("whsec_" followed by base64)');
    if (key.length < 16) throw new Error(`decodes to ${key.length} bytes; at least 16 are needed`);
    return key;
  },

  verify(request, keys, options): VerifyResult {
    const prefix = family(request.headers);
    const id = singleHeader(request.headers, `${prefix}-id`);
    if (!id || !isValidId(id)) return { ok: false, code: 'signature_invalid', reason: `missing or malformed ${prefix}-id` };
    const timestamp = parseUnixSeconds(singleHeader(request.headers, `${prefix}-timestamp`), `${prefix}-timestamp`);
    if (typeof timestamp !== 'number') return timestamp;
    const signatures = v1Signatures(request.headers.get(`${prefix}-signature`) ?? []);
    if (signatures.length === 0) return { ok: false, code: 'signature_invalid', reason: `missing or garbled ${prefix}-signature` };
    if (matchAny(keys, signatures, `${id}.${timestamp}.`, request.body) < 0) {
      return { ok: false, code: 'signature_invalid', reason: 'no signature matches any secret' };
    }
    const stale = checkFreshness(timestamp, options.nowSeconds, options.maxAgeSeconds);
    if (stale) return stale;
    return { ok: true, deliveryId: id, timestampSeconds: timestamp };
  },

  sign(secret, input) {
    const id = input.id ?? `msg_${randomBytes(12).toString('hex')}`;
    const timestamp = input.timestampSeconds ?? nowSeconds();
    const mac = createHmac('sha256', this.decodeSecret(secret)).update(`${id}.${timestamp}.`).update(input.body).digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}` };
  },
};

standardWebhooks.eventTypeOf = (request) => stringField(jsonObject(request.body), 'type');
