import { createHmac, randomUUID } from 'node:crypto';
import { singleHeader } from '../headers.js';
import { decodeMacs, withSignedId, matchAny } from './compare.js';
import { idFromHeader, isValidId } from './ids.js';
import type { SignatureScheme, VerifyResult } from './types.js';

const SIGNATURE = 'x-shopify-hmac-sha256';
const WEBHOOK_ID = 'x-shopify-webhook-id';
const TOPIC = 'x-shopify-topic';

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64>` (no prefix) over the body, app
 * client secret as UTF-8. Nothing is timestamped and `X-Shopify-Webhook-Id` (the
 * documented idempotency key) is not signed, so the replay key is
 * {@link signedId} of the body; the id header (refused when malformed) is kept
 * as `providerId` for display. The event type is `X-Shopify-Topic`.
 */
export const shopify: SignatureScheme = {
  name: 'shopify',
  keptHeaders: [
    'content-type',
    'user-agent',
    TOPIC,
    WEBHOOK_ID,
    'x-shopify-shop-domain',
    'x-shopify-api-version',
    'x-shopify-triggered-at',
  ],
  signatureHeaders: [SIGNATURE],

  decodeSecret(secret) {
    if (secret.length === 0) throw new Error('is empty');
    return Buffer.from(secret, 'utf8');
  },

  verify(request, keys): VerifyResult {
    const { headers } = request;
    const macs = decodeMacs(headers.get(SIGNATURE), '', 'base64');
    if (!macs) return { ok: false, code: 'signature_invalid', reason: `missing ${SIGNATURE}` };
    if (macs.length === 0) return { ok: false, code: 'signature_invalid', reason: `garbled ${SIGNATURE}` };
    const id = idFromHeader(headers, WEBHOOK_ID);
    if (typeof id === 'object') return id;
    const match = matchAny(keys, macs, '', request.body);
    if (match < 0) return { ok: false, code: 'signature_invalid', reason: 'signature matches no secret', noKeyMatched: true };
    // X-Shopify-Webhook-Id is not signed: a replay could carry a fresh one, so the key is the signed bytes'.
    const topic = singleHeader(headers, TOPIC);
    return withSignedId({ providerId: id || undefined, eventType: topic && isValidId(topic) ? topic : undefined }, '', request.body);
  },

  /** Adds `X-Shopify-Topic: orders/create`, so the message is complete. */
  sign(secret, input) {
    const mac = createHmac('sha256', shopify.decodeSecret(secret)).update(input.body).digest('base64');
    return { 'X-Shopify-Webhook-Id': input.id ?? randomUUID(), 'X-Shopify-Topic': 'orders/create', 'X-Shopify-Hmac-Sha256': mac };
  },
};
