import { createHmac, randomUUID } from 'node:crypto';
import { singleHeader } from '../headers';
import { decodeMac, matchAny } from './compare';
import { idFromHeader } from './ids';
import { checkFreshness, nowSeconds, parseUnixSeconds } from './timestamp';
import type { HmacSchemeOptions, SignatureScheme, VerifyResult } from './types';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const PLACEHOLDER = /\{(id|timestamp|body)\}/g;

/**
 * Validates generic-HMAC options and compiles the template once.
 * @throws Error describing every invalid option
 */
const compile = (options: HmacSchemeOptions) => {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) throw new Error('scheme "hmac" needs hmac options: header is required');
  if (typeof options.header !== 'string' || !HEADER_NAME.test(options.header)) problems.push('hmac.header must be a header name');
  const encoding = options.encoding ?? 'hex';
  if (encoding !== 'hex' && encoding !== 'base64') problems.push('hmac.encoding must be "hex" or "base64"');
  for (const key of ['timestampHeader', 'idHeader'] as const) {
    if (options[key] !== undefined && (typeof options[key] !== 'string' || !HEADER_NAME.test(options[key]))) problems.push(`hmac.${key} must be a header name`);
  }
  const template = options.template ?? '{body}';
  if (typeof template !== 'string' || !template.endsWith('{body}') || template.split('{body}').length !== 2) {
    problems.push('hmac.template must contain {body} exactly once, at the end');
  }
  const used = new Set([...String(template).matchAll(PLACEHOLDER)].map((m) => m[1]));
  if (used.has('timestamp') && !options.timestampHeader) problems.push('hmac.template uses {timestamp} but hmac.timestampHeader is not set');
  if (used.has('id') && !options.idHeader) problems.push('hmac.template uses {id} but hmac.idHeader is not set');
  if (problems.length > 0) throw new Error(problems.join('; '));
  return {
    header: options.header.toLowerCase(),
    prefix: options.prefix ?? '',
    encoding,
    timestampHeader: options.timestampHeader?.toLowerCase(),
    idHeader: options.idHeader?.toLowerCase(),
    // Everything before {body}; {id} and {timestamp} are filled per request.
    head: template.slice(0, -'{body}'.length),
  };
};

/**
 * A configurable HMAC-SHA256 scheme for senders with no preset: header,
 * prefix, hex or base64, optional timestamp and id headers, and a template of
 * the signed string whose last part is the body (e.g. `{timestamp}.{body}`).
 */
export const createHmacScheme = (options: HmacSchemeOptions): SignatureScheme => {
  const c = compile(options);
  const fill = (id: string, timestamp: string): string => c.head.replaceAll('{id}', id).replaceAll('{timestamp}', timestamp);
  const decode = (text: string) => decodeMac(text, c.encoding);
  return {
    name: 'hmac',
    keptHeaders: ['content-type', 'user-agent', ...(c.idHeader ? [c.idHeader] : [])],

    decodeSecret(secret) {
      if (secret.length === 0) throw new Error('is empty');
      return Buffer.from(secret, 'utf8');
    },

    verify(request, keys, verifyOptions): VerifyResult {
      const header = singleHeader(request.headers, c.header);
      if (!header) return { ok: false, code: 'signature_invalid', reason: header === null ? `conflicting ${c.header} headers` : `missing ${c.header}` };
      const mac = header.startsWith(c.prefix) ? decode(header.slice(c.prefix.length).trim()) : undefined;
      if (mac?.length !== 32) return { ok: false, code: 'signature_invalid', reason: `garbled ${c.header}` };
      let timestamp: number | undefined;
      if (c.timestampHeader) {
        const parsed = parseUnixSeconds(singleHeader(request.headers, c.timestampHeader), c.timestampHeader);
        if (typeof parsed !== 'number') return parsed;
        timestamp = parsed;
      }
      const id = c.idHeader ? idFromHeader(request.headers, c.idHeader) : undefined;
      if (typeof id === 'object') return id;
      if (c.idHeader && id === undefined && c.head.includes('{id}')) return { ok: false, code: 'signature_invalid', reason: `missing ${c.idHeader}` };
      if (matchAny(keys, [mac], fill(id ?? '', String(timestamp ?? '')), request.body) < 0) {
        return { ok: false, code: 'signature_invalid', reason: 'signature matches no secret' };
      }
      if (timestamp !== undefined) {
        const stale = checkFreshness(timestamp, verifyOptions.nowSeconds, verifyOptions.maxAgeSeconds);
        if (stale) return stale;
      }
      return { ok: true, deliveryId: id ?? `sig_${mac.toString('hex')}`, ...(timestamp === undefined ? {} : { timestampSeconds: timestamp }) };
    },

    sign(secret, input) {
      const id = input.id ?? randomUUID();
      const timestamp = String(input.timestampSeconds ?? nowSeconds());
      const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(fill(id, timestamp)).update(input.body).digest(c.encoding);
      return {
        [options.header]: `${c.prefix}${mac}`,
        ...(options.timestampHeader ? { [options.timestampHeader]: timestamp } : {}),
        ...(options.idHeader ? { [options.idHeader]: id } : {}),
      };
    },
  };
};
