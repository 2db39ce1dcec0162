import { createHmac, randomUUID } from 'node:crypto';
import { singleHeader } from '../headers';
import { decodeMac, matchAny } from './compare';
import { idFromHeader } from './ids';
import type { SignatureScheme, VerifyResult } from './types';

const PREFIX = 'sha256=';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body, secret as UTF-8.
 * No signed timestamp: replay protection rests on `X-GitHub-Delivery` (the same
 * on redelivery), kept for the retention period; without it, the signature.
 */
export const github: SignatureScheme = {
  name: 'github',
  keptHeaders: ['content-type', 'user-agent', 'x-github-event', 'x-github-delivery', 'x-github-hook-id', 'x-github-hook-installation-target-id'],

  decodeSecret(secret) {
    if (secret.length === 0) throw new Error('is empty');
    if (secret.startsWith(PREFIX)) throw new Error('is a signature (starts with "sha256="), not a secret');
    return Buffer.from(secret, 'utf8');
  },

  verify(request, keys): VerifyResult {
    const header = singleHeader(request.headers, 'x-hub-signature-256');
    if (!header) return { ok: false, code: 'signature_invalid', reason: header === null ? 'conflicting X-Hub-Signature-256 headers' : 'missing X-Hub-Signature-256' };
    const mac = header.startsWith(PREFIX) ? decodeMac(header.slice(PREFIX.length), 'hex') : undefined;
    if (mac?.length !== 32) return { ok: false, code: 'signature_invalid', reason: 'garbled X-Hub-Signature-256' };
    const id = idFromHeader(request.headers, 'x-github-delivery');
    if (typeof id === 'object') return id;
    if (matchAny(keys, [mac], '', request.body) < 0) return { ok: false, code: 'signature_invalid', reason: 'signature matches no secret' };
    const event = singleHeader(request.headers, 'x-github-event');
    return { ok: true, deliveryId: id ?? `sig_${mac.toString('hex')}`, ...(event ? { eventType: event } : {}) };
  },

  sign(secret, input) {
    const mac = createHmac('sha256', this.decodeSecret(secret)).update(input.body).digest('hex');
    return { 'X-GitHub-Delivery': input.id ?? randomUUID(), 'X-GitHub-Event': 'ping', 'X-Hub-Signature-256': `${PREFIX}${mac}` };
  },
};
