import { createHmac, randomUUID } from 'node:crypto';
import { singleHeader } from '../headers';
import { decodeMac, matchAny } from './compare';
import { idFromHeader } from './ids';
import type { SignatureScheme, VerifyResult } from './types';

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the body, app secret as UTF-8.
 * No signed timestamp; `X-Shopify-Webhook-Id` is the documented idempotency key.
 */
export const shopify: SignatureScheme = {
  name: 'shopify',
  keptHeaders: ['content-type', 'user-agent', 'x-shopify-topic', 'x-shopify-webhook-id', 'x-shopify-shop-domain', 'x-shopify-api-version', 'x-shopify-triggered-at'],

  decodeSecret(secret) {
    if (secret.length === 0) throw new Error('is empty');
    return Buffer.from(secret, 'utf8');
  },

  verify(request, keys): VerifyResult {
    const header = singleHeader(request.headers, 'x-shopify-hmac-sha256');
    if (!header) return { ok: false, code: 'signature_invalid', reason: header === null ? 'conflicting X-Shopify-Hmac-Sha256 headers' : 'missing X-Shopify-Hmac-Sha256' };
    const mac = decodeMac(header.trim(), 'base64');
    if (mac?.length !== 32) return { ok: false, code: 'signature_invalid', reason: 'garbled X-Shopify-Hmac-Sha256' };
    const id = idFromHeader(request.headers, 'x-shopify-webhook-id');
    if (typeof id === 'object') return id;
    if (matchAny(keys, [mac], '', request.body) < 0) return { ok: false, code: 'signature_invalid', reason: 'signature matches no secret' };
    const topic = singleHeader(request.headers, 'x-shopify-topic');
    return { ok: true, deliveryId: id ?? `sig_${mac.toString('hex')}`, ...(topic ? { eventType: topic } : {}) };
  },

  sign(secret, input) {
    const mac = createHmac('sha256', this.decodeSecret(secret)).update(input.body).digest('base64');
    return { 'X-Shopify-Webhook-Id': input.id ?? randomUUID(), 'X-Shopify-Topic': 'orders/create', 'X-Shopify-Hmac-Sha256': mac };
  },
};
