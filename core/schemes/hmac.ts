import { createHmac, randomUUID } from 'node:crypto';
import { decodeMacs, withSignedId, matchAny } from './compare.js';
import { idFromHeader } from './ids.js';
import { checkFreshness, matchedNoKey, nowSeconds, parseUnixSeconds, timestampText } from './timestamp.js';
import type { HmacSchemeOptions, SignatureScheme, VerifyResult } from './types.js';

/** The problem of a `timestampHeader` whose value the template does not sign (the configuration names it in its own terms). */
export const UNSIGNED_TIMESTAMP = 'timestampHeader is set but template has no {timestamp}';
/** An RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const PLACEHOLDER = /\{([A-Za-z_]+)\}/g;
const ID = Symbol('id');
const TIMESTAMP = Symbol('timestamp');
/** A template piece: literal text, or where the id or timestamp goes. */
type Part = string | typeof ID | typeof TIMESTAMP;

/** Splits a template's text around its `{id}` and `{timestamp}` placeholders. */
const partsOf = (text: string): Part[] =>
  text
    .split(/(\{id\}|\{timestamp\})/)
    .flatMap((piece): Part[] => (piece === '{id}' ? [ID] : piece === '{timestamp}' ? [TIMESTAMP] : piece ? [piece] : []));

/** Whether `text` holds any character of `chars` (usually none or one: no regex, no allocation). */
const holdsAny = (text: string, chars: string): boolean => {
  for (let i = 0; i < chars.length; i++) if (text.includes(chars[i] as string)) return true;
  return false;
};

/** Builds the signed text around the body; the usual template has no part at all and costs nothing. */
const fill = (parts: readonly Part[], id: string, timestamp: string): string => {
  let text = '';
  for (const part of parts) text += part === ID ? id : part === TIMESTAMP ? timestamp : part;
  return text;
};

/**
 * The characters a signed id must not hold: the first of the text between an
 * `{id}` and a `{body}` after it, the last of the text between a `{body}` and
 * an `{id}` after it. An id may hold any printable character, so in
 * `{id}.{body}` the id `a.b` with body `c` signs the same text as the id `a`
 * with body `b.c`: a capture replayed with the boundary moved would verify
 * under another replay key. With these characters refused, the id ends at the
 * first one (the last one when the body comes first). A `{timestamp}` in
 * between (digits only) already fixes the boundary.
 */
const idStopsOf = (template: string): string => {
  const pieces = template.split(/(\{id\}|\{timestamp\}|\{body\})/);
  let stops = '';
  for (let i = 1; i < pieces.length; i += 2) {
    if (pieces[i] !== '{id}') continue;
    const after = pieces[i + 1] as string;
    const before = pieces[i - 1] as string;
    if (pieces[i + 2] === '{body}' && after.length > 0) stops += after[0];
    if (pieces[i - 2] === '{body}' && before.length > 0) stops += before[before.length - 1];
  }
  return stops;
};

const isHeaderName = (value: unknown): value is string => typeof value === 'string' && HEADER_NAME.test(value);
/** An empty option counts as unset: an environment variable set to nothing usually means "not configured". */
const given = <T>(value: T | undefined): T | undefined => (value === '' ? undefined : value);

/**
 * Validates the options and splits the template once, at construction.
 * @throws Error listing every problem, in configuration terms (also as `problems`, one string each)
 */
const compile = (options: HmacSchemeOptions) => {
  if (typeof options !== 'object' || options === null) throw new Error('scheme "hmac" needs hmac options: header is required');
  const header = given(options.header);
  const timestampHeader = given(options.timestampHeader);
  const idHeader = given(options.idHeader);
  const encoding = given(options.encoding) ?? 'hex';
  const template = given(options.template) ?? '{body}';
  const problems: string[] = [];
  if (header === undefined) problems.push('header is required');
  else if (!isHeaderName(header)) problems.push('header must be a header name');
  if (options.prefix !== undefined && typeof options.prefix !== 'string') problems.push('prefix must be a string');
  // eslint-disable-next-line no-control-regex -- the characters a received header value never starts with or holds
  else if (options.prefix !== undefined && /^[\t ]|[\u0000-\u0008\u000a-\u001f\u007f]/.test(options.prefix))
    problems.push(
      'prefix cannot start with a space or tab or hold a control character: header values arrive without them, so no signature would match',
    );
  if (encoding !== 'hex' && encoding !== 'base64') problems.push('encoding must be "hex" or "base64"');
  if (timestampHeader !== undefined && !isHeaderName(timestampHeader)) problems.push('timestampHeader must be a header name');
  if (idHeader !== undefined && !isHeaderName(idHeader)) problems.push('idHeader must be a header name');
  // The signature header carries a MAC: as the timestamp it is never digits, as a signed id it would sign itself.
  for (const [key, name] of [
    ['timestampHeader', timestampHeader],
    ['idHeader', idHeader],
  ] as const)
    if (typeof header === 'string' && typeof name === 'string' && name.toLowerCase() === header.toLowerCase())
      problems.push(`${key} names the same header as header: one header cannot carry both`);
  if (typeof template !== 'string') throw new Error(`scheme "hmac": ${[...problems, 'template must be a string'].join('; ')}`);
  const placeholders = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
  if (placeholders.filter((p) => p === 'body').length !== 1) problems.push('template must contain {body} exactly once');
  for (const p of new Set(placeholders))
    if (p !== 'body' && p !== 'id' && p !== 'timestamp')
      problems.push(`template has an unknown placeholder {${p}} (use {id}, {timestamp}, {body})`);
  if (placeholders.includes('timestamp') && timestampHeader === undefined)
    problems.push('template uses {timestamp} but timestampHeader is not set');
  if (placeholders.includes('id') && idHeader === undefined) problems.push('template uses {id} but idHeader is not set');
  // Freshness checked on a header the MAC does not cover proves nothing: anyone can rewrite it.
  if (timestampHeader !== undefined && !placeholders.includes('timestamp')) problems.push(UNSIGNED_TIMESTAMP);
  if (problems.length > 0 || header === undefined) throw Object.assign(new Error(`scheme "hmac": ${problems.join('; ')}`), { problems });
  const [before = '', after = ''] = template.split('{body}');
  return {
    /** As configured, for the headers `sign` writes. */
    names: { header, timestampHeader, idHeader },
    header: header.toLowerCase(),
    prefix: options.prefix ?? '',
    encoding,
    timestampHeader: timestampHeader?.toLowerCase(),
    idHeader: idHeader?.toLowerCase(),
    signsId: placeholders.includes('id'),
    idStops: idStopsOf(template),
    head: partsOf(before),
    tail: partsOf(after),
  };
};

/** The key of an `hmac` source: the secret's UTF-8 bytes, whatever the scheme's options (the rotation function checks keys with it). */
export const decodeHmacSecret = (secret: string): Buffer => {
  if (secret.length === 0) throw new Error('is empty');
  return Buffer.from(secret, 'utf8');
};

/**
 * A configurable HMAC-SHA256 scheme for senders without a preset: the MAC is in
 * `header` after `prefix`, hex or base64, over `template` with `{id}`,
 * `{timestamp}` and `{body}` filled in; the secret is UTF-8. With
 * `timestampHeader`, freshness is enforced both ways. The replay key is the
 * `idHeader` value when the template signs `{id}` (refused when malformed or
 * missing), else {@link signedId} of the signed bytes, with an unsigned id
 * header kept as `providerId` for display.
 * @throws Error for invalid options, naming each problem (never a secret)
 * @example createHmacScheme({ header: 'X-Signature', prefix: 'sha256=', timestampHeader: 'X-Timestamp', template: '{timestamp}.{body}' })
 */
export const createHmacScheme = (options: HmacSchemeOptions): SignatureScheme => {
  const c = compile(options);
  const decodeSecret = decodeHmacSecret;
  return {
    name: 'hmac',
    keptHeaders: ['content-type', 'user-agent', ...(c.idHeader ? [c.idHeader] : [])],
    signatureHeaders: [c.header],
    decodeSecret,

    verify(request, keys, verifyOptions): VerifyResult {
      const { headers } = request;
      const macs = decodeMacs(headers.get(c.header), c.prefix, c.encoding);
      if (!macs) return { ok: false, code: 'signature_invalid', reason: `missing ${c.header}` };
      if (macs.length === 0) return { ok: false, code: 'signature_invalid', reason: `garbled ${c.header}` };
      let id: string | undefined;
      if (c.idHeader) {
        const read = idFromHeader(headers, c.idHeader);
        if (typeof read === 'object') return read;
        if (read === undefined && c.signsId) return { ok: false, code: 'signature_invalid', reason: `missing ${c.idHeader}` };
        if (read !== undefined && holdsAny(read, c.idStops))
          return {
            ok: false,
            code: 'signature_invalid',
            reason: `${c.idHeader} holds a character that separates {id} from {body} in the template`,
          };
        id = read;
      }
      let text = '';
      let timestamp: number | undefined;
      if (c.timestampHeader) {
        const raw = timestampText(headers, c.timestampHeader);
        if (typeof raw !== 'string') return raw;
        const parsed = parseUnixSeconds(raw, c.timestampHeader);
        if (typeof parsed !== 'number') return parsed;
        text = raw;
        timestamp = parsed;
      }
      const head = fill(c.head, id ?? '', text);
      const tail = fill(c.tail, id ?? '', text);
      const match = matchAny(keys, macs, head, request.body, tail);
      if (match < 0)
        return timestamp === undefined
          ? { ok: false, code: 'signature_invalid', reason: 'signature matches no secret', noKeyMatched: true }
          : matchedNoKey('signature matches no secret', timestamp, verifyOptions.nowSeconds, verifyOptions.maxAgeSeconds);
      // An id outside the template is not signed: a replay could carry a fresh one, so it is only displayed.
      const stale = timestamp === undefined ? undefined : checkFreshness(timestamp, verifyOptions.nowSeconds, verifyOptions.maxAgeSeconds);
      if (stale) return stale;
      if (c.signsId && id !== undefined)
        return timestamp === undefined ? { ok: true, deliveryId: id } : { ok: true, deliveryId: id, timestampSeconds: timestamp };
      return withSignedId({ timestampSeconds: timestamp, providerId: id || undefined }, head, request.body, tail);
    },

    sign(secret, input) {
      // A UUID's "-" may be what separates {id} from {body} (`{id}-{body}`): verification would refuse it.
      const id = input.id ?? (c.idStops.includes('-') ? randomUUID().replaceAll('-', '') : randomUUID());
      const timestamp = String(input.timestampSeconds ?? nowSeconds());
      const mac = createHmac('sha256', decodeSecret(secret))
        .update(fill(c.head, id, timestamp))
        .update(input.body)
        .update(fill(c.tail, id, timestamp))
        .digest(c.encoding);
      const { header, timestampHeader, idHeader } = c.names;
      return {
        [header]: `${c.prefix}${mac}`,
        ...(timestampHeader ? { [timestampHeader]: timestamp } : {}),
        ...(idHeader ? { [idHeader]: id } : {}),
      };
    },
  };
};
