import { createHmac } from 'node:crypto';
import { singleHeader } from '../headers';
import { decodeMac, matchAny } from './compare';
import { jsonObject, stringField } from './ids';
import { checkFreshness, nowSeconds, parseUnixSeconds } from './timestamp';
import type { SignatureScheme, VerifyResult } from './types';

const PREFIX = 'v0=';

/**
 * Slack: `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}` with
 * `X-Slack-Request-Timestamp`. The delivery id is the Events API body's
 * `event_id` (retries carry the same one); slash commands and other form bodies
 * have none, so the signature is the nonce.
 */
export const slack: SignatureScheme = {
  name: 'slack',
  keptHeaders: ['content-type', 'user-agent', 'x-slack-retry-num', 'x-slack-retry-reason'],

  decodeSecret(secret) {
    if (secret.length === 0) throw new Error('is empty');
    if (secret.startsWith(PREFIX)) throw new Error('is a signature (starts with "v0="), not a secret');
    return Buffer.from(secret, 'utf8');
  },

  verify(request, keys, options): VerifyResult {
    const header = singleHeader(request.headers, 'x-slack-signature');
    if (!header) return { ok: false, code: 'signature_invalid', reason: header === null ? 'conflicting X-Slack-Signature headers' : 'missing X-Slack-Signature' };
    const mac = header.startsWith(PREFIX) ? decodeMac(header.slice(PREFIX.length), 'hex') : undefined;
    if (mac?.length !== 32) return { ok: false, code: 'signature_invalid', reason: 'garbled X-Slack-Signature' };
    const timestamp = parseUnixSeconds(singleHeader(request.headers, 'x-slack-request-timestamp'), 'X-Slack-Request-Timestamp');
    if (typeof timestamp !== 'number') return timestamp;
    if (matchAny(keys, [mac], `v0:${timestamp}:`, request.body) < 0) return { ok: false, code: 'signature_invalid', reason: 'signature matches no secret' };
    const stale = checkFreshness(timestamp, options.nowSeconds, options.maxAgeSeconds);
    if (stale) return stale;
    const eventId = request.body[0] === 0x7b ? stringField(jsonObject(request.body), 'event_id') : undefined;
    return { ok: true, deliveryId: eventId ?? `sig_${mac.toString('hex')}`, timestampSeconds: timestamp };
  },

  eventTypeOf(request) {
    const body = jsonObject(request.body);
    return stringField(body?.event, 'type') ?? stringField(body, 'type');
  },

  sign(secret, input) {
    const timestamp = input.timestampSeconds ?? nowSeconds();
    const mac = createHmac('sha256', this.decodeSecret(secret)).update(`v0:${timestamp}:`).update(input.body).digest('hex');
    return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': `${PREFIX}${mac}` };
  },
};
