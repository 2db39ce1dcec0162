import { createHmac, randomUUID } from 'node:crypto';
import { singleHeader } from '../headers.js';
import { decodeMacs, withSignedId, matchAny } from './compare.js';
import { idFromHeader, isValidId } from './ids.js';
import type { SignatureScheme, VerifyResult } from './types.js';

const SIGNATURE = 'x-hub-signature-256';
const DELIVERY = 'x-github-delivery';
const EVENT = 'x-github-event';
const PREFIX = 'sha256=';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body, secret as UTF-8.
 * Nothing is timestamped and `X-GitHub-Delivery` is not signed, so the replay
 * key is {@link signedId} of the body; the delivery header (refused when
 * malformed) is kept as `providerId` for display. The event type is `X-GitHub-Event`.
 */
export const github: SignatureScheme = {
  name: 'github',
  keptHeaders: ['content-type', 'user-agent', EVENT, DELIVERY, 'x-github-hook-id', 'x-github-hook-installation-target-id'],
  signatureHeaders: [SIGNATURE],

  decodeSecret(secret) {
    if (secret.length === 0) throw new Error('is empty');
    if (secret.startsWith(PREFIX)) throw new Error(`is a signature (starts with "${PREFIX}"), not a secret`);
    return Buffer.from(secret, 'utf8');
  },

  verify(request, keys): VerifyResult {
    const { headers } = request;
    const macs = decodeMacs(headers.get(SIGNATURE), PREFIX, 'hex');
    if (!macs) return { ok: false, code: 'signature_invalid', reason: `missing ${SIGNATURE}` };
    if (macs.length === 0) return { ok: false, code: 'signature_invalid', reason: `garbled ${SIGNATURE}` };
    const id = idFromHeader(headers, DELIVERY);
    if (typeof id === 'object') return id;
    const match = matchAny(keys, macs, '', request.body);
    if (match < 0) return { ok: false, code: 'signature_invalid', reason: 'signature matches no secret', noKeyMatched: true };
    // X-GitHub-Delivery is not signed: a replay could carry a fresh one, so the key is the signed bytes'.
    const event = singleHeader(headers, EVENT);
    return withSignedId({ providerId: id || undefined, eventType: event && isValidId(event) ? event : undefined }, '', request.body);
  },

  /** Adds `X-GitHub-Event: ping`, the first event GitHub sends to a new hook, so the message is complete. */
  sign(secret, input) {
    const mac = createHmac('sha256', github.decodeSecret(secret)).update(input.body).digest('hex');
    return { 'X-GitHub-Delivery': input.id ?? randomUUID(), 'X-GitHub-Event': 'ping', 'X-Hub-Signature-256': `${PREFIX}${mac}` };
  },
};
