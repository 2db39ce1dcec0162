import { createHmac } from 'node:crypto';
import { singleHeader } from '../headers';
import { decodeMac, matchAny } from './compare';
import { jsonObject, stringField } from './ids';
import { checkFreshness, nowSeconds, parseUnixSeconds } from './timestamp';
import type { SignatureScheme, VerifyResult } from './types';

const HEADER = 'stripe-signature';
/** A Stripe event's first key is its id: read it without parsing the whole body. */
const LEADING_ID = /^\s*\{\s*"id"\s*:\s*"([\x21-\x7e]{1,256}?)"/;

/** Splits `t=...,v1=...,v1=...`; v0 and unknown keys are ignored. */
const parseHeader = (value: string): { t?: string; v1: Buffer[] } => {
  const parsed: { t?: string; v1: Buffer[] } = { v1: [] };
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const text = part.slice(eq + 1).trim();
    if (key === 't') parsed.t = parsed.t === undefined ? text : '\u0000conflict';
    else if (key === 'v1') {
      const mac = decodeMac(text, 'hex');
      if (mac?.length === 32) parsed.v1.push(mac);
    }
  }
  return parsed;
};

/** The event id (`evt_...`), read after the signature matched. */
const eventId = (body: Buffer): string | undefined => {
  const head = LEADING_ID.exec(body.subarray(0, 300).toString('latin1'));
  if (head) return head[1];
  return stringField(jsonObject(body), 'id');
};

/**
 * Stripe: `Stripe-Signature: t=<secs>,v1=<hex>[,v1=...]` over `{t}.{body}`. The
 * key is the whole `whsec_...` string as UTF-8, NOT base64-decoded. The
 * delivery id is the body's event `id`, so a retry re-signed with a new `t` is
 * still a duplicate; a body without one falls back to the signature.
 */
export const stripe: SignatureScheme = {
  name: 'stripe',
  keptHeaders: ['content-type', 'user-agent'],

  decodeSecret(secret) {
    const text = secret.trim();
    if (text.length < 8) throw new Error('is too short for a Stripe signing secret');
    if (text.startsWith('v1=') || text.startsWith('t=')) throw new Error('is a signature header, not a secret');
    return Buffer.from(text, 'utf8');
  },

  verify(request, keys, options): VerifyResult {
    const header = singleHeader(request.headers, HEADER);
    if (!header) return { ok: false, code: 'signature_invalid', reason: header === null ? 'conflicting Stripe-Signature headers' : 'missing Stripe-Signature' };
    const parsed = parseHeader(header);
    const timestamp = parseUnixSeconds(parsed.t, 'Stripe-Signature t');
    if (typeof timestamp !== 'number') return timestamp;
    if (parsed.v1.length === 0) return { ok: false, code: 'signature_invalid', reason: 'no v1 signature in Stripe-Signature' };
    const match = matchAny(keys, parsed.v1, `${timestamp}.`, request.body);
    if (match < 0) return { ok: false, code: 'signature_invalid', reason: 'no signature matches any secret' };
    const stale = checkFreshness(timestamp, options.nowSeconds, options.maxAgeSeconds);
    if (stale) return stale;
    const id = eventId(request.body) ?? `sig_${(parsed.v1[match] as Buffer).toString('hex')}`;
    return { ok: true, deliveryId: id, timestampSeconds: timestamp };
  },

  sign(secret, input) {
    const timestamp = input.timestampSeconds ?? nowSeconds();
    const mac = createHmac('sha256', this.decodeSecret(secret)).update(`${timestamp}.`).update(input.body).digest('hex');
    return { 'Stripe-Signature': `t=${timestamp},v1=${mac}` };
  },
};

stripe.eventTypeOf = (request) => stringField(jsonObject(request.body), 'type');
