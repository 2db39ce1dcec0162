import { createHmac } from 'node:crypto';
import { decodeMacs, withSignedId, matchAny } from './compare.js';
import { BACKSLASH, hasBackslash, isJsonSpace, jsonPath, jsonStringAt, QUOTE, stringEnd } from './json-scan.js';
import { checkFreshness, matchedNoKey, nowSeconds, parseUnixSeconds, timestampText } from './timestamp.js';
import type { SignatureScheme, VerifyResult } from './types.js';

const SIGNATURE = 'x-slack-signature';
const TIMESTAMP = 'x-slack-request-timestamp';
const PREFIX = 'v0=';
const EVENT_ID_KEY = Buffer.from('"event_id"');
const UNICODE_ESCAPE = Buffer.from('\\u');
const EVENT_ID = jsonPath('event_id');
const EVENT_TYPE = jsonPath('event', 'type');
const TYPE = jsonPath('type');

/**
 * Whether the object holding `from` closes with the body's last non-space
 * byte, i.e. is the root, and no later string of that object has an escape:
 * `"\u0065vent_id"` is also an event_id key, and the last duplicate is the one
 * JSON.parse keeps, so an escaped string after the key leaves the answer to the parser.
 */
const closesRoot = (body: Buffer, from: number): boolean => {
  let depth = 0;
  for (let at = from; at < body.length; at++) {
    const byte = body[at];
    if (byte === QUOTE) {
      const end = stringEnd(body, at);
      if (end < 0) return false;
      // Looked for within the string only: a search to the body's end for each root string made this quadratic.
      if (depth === 0 && hasBackslash(body, at + 1, end)) return false;
      at = end;
    } else if (byte === 0x7b || byte === 0x5b) depth++;
    else if ((byte === 0x7d || byte === 0x5d) && --depth < 0) {
      for (at++; at < body.length; at++) if (!isJsonSpace(body[at])) return false;
      return true;
    }
  }
  return false;
};

/**
 * The plain string value of the `event_id` key whose opening quote is at
 * `keyAt`, if that key is at the root; `null` when unsure (the parser then
 * decides). A quote after `{` or `,` opens a key: inside a string it would
 * follow a backslash.
 */
const rootValueAt = (body: Buffer, keyAt: number): string | null => {
  let at = keyAt - 1;
  while (isJsonSpace(body[at])) at--;
  if (body[at] !== 0x7b && body[at] !== 0x2c) return null;
  at = keyAt + EVENT_ID_KEY.length;
  while (isJsonSpace(body[at])) at++;
  if (body[at++] !== 0x3a) return null;
  while (isJsonSpace(body[at])) at++;
  if (body[at] !== QUOTE) return null;
  const start = at + 1;
  // A usable id is 1 to 256 printable ASCII characters; escapes are left to the parser.
  for (at = start; at <= start + 256; at++) {
    const byte = body[at];
    if (byte === QUOTE) return at > start && closesRoot(body, at + 1) ? body.toString('latin1', start, at) : null;
    if (byte === undefined || byte < 0x21 || byte > 0x7e || byte === BACKSLASH) return null;
  }
  return null;
};

/** How far from the end {@link lastKeyAt} scans in JavaScript before asking the native search. */
const NEAR_END_BYTES = 512;

/**
 * How far a right-to-left search for `"event_id"` may move its window when the
 * window's first byte is `c`: to the nearest later occurrence of `c` in the
 * key, or past the whole key when `c` is not in it (reverse Horspool).
 */
const SHIFT = (() => {
  const shift = new Uint8Array(256).fill(EVENT_ID_KEY.length);
  for (let i = EVENT_ID_KEY.length - 1; i >= 1; i--) shift[EVENT_ID_KEY[i] as number] = i;
  return shift;
})();

/**
 * The index of the last `"event_id"` in the body, or -1. The envelope puts it
 * a few dozen bytes from the end, where a reverse Horspool search finds it
 * after a handful of comparisons (the window moves up to ten bytes at a time);
 * Buffer#lastIndexOf's fixed cost was ~5% of a 1 KiB verification and a
 * byte-by-byte loop ~2.4% (profiles). Further back, the native search takes over.
 */
const lastKeyAt = (body: Buffer): number => {
  const length = EVENT_ID_KEY.length;
  const stop = Math.max(0, body.length - length - NEAR_END_BYTES);
  for (let at = body.length - length; at >= stop; at -= SHIFT[body[at] as number] as number) {
    let i = 0;
    while (i < length && body[at + i] === EVENT_ID_KEY[i]) i++;
    if (i === length) return at;
  }
  // Every start at or after `stop` was checked or ruled out by a shift.
  return stop > 0 ? body.lastIndexOf(EVENT_ID_KEY, stop - 1) : -1;
};

/**
 * The Events API `event_id`, read after verification without parsing the
 * body: the envelope puts it after the (possibly large) `event`, so the last
 * plain `"event_id"` is checked to be a root key, and the last one, by scanning
 * only the bytes after it. Whenever the scan is unsure (a key spelled with
 * escapes, an escaped value, a nested or absent plain key in a body with `\u`
 * escapes) the forward scan of {@link jsonStringAt} decides, with JSON.parse
 * behind it, so a well-formed body always yields JSON.parse's answer; a
 * malformed one may still yield an id, a fixed function of the signed bytes
 * either way. Form bodies (slash commands) have none.
 */
const eventIdOf = (body: Buffer): string | undefined => {
  let first = 0;
  while (isJsonSpace(body[first])) first++;
  if (body[first] !== 0x7b) return undefined;
  const at = lastKeyAt(body);
  const plain = at < 0 ? undefined : rootValueAt(body, at);
  if (typeof plain === 'string') return plain;
  // Without a plain key and without a \u escape, no key in the body can read "event_id".
  if (at < 0 && !body.includes(UNICODE_ESCAPE)) return undefined;
  return jsonStringAt(body, EVENT_ID);
};

/**
 * Slack: `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`, with
 * `X-Slack-Request-Timestamp` checked in both directions; signing secret as
 * UTF-8. The delivery id is the Events API body's `event_id` (retries carry the
 * same one); slash commands and other form bodies have none, so the signature
 * is the nonce. The event type is the body's `event.type`, else `type`.
 */
export const slack: SignatureScheme = {
  name: 'slack',
  keptHeaders: ['content-type', 'user-agent', 'x-slack-retry-num', 'x-slack-retry-reason'],
  signatureHeaders: [SIGNATURE],

  decodeSecret(secret) {
    if (secret.length === 0) throw new Error('is empty');
    if (secret.startsWith(PREFIX)) throw new Error(`is a signature (starts with "${PREFIX}"), not a secret`);
    if (secret.startsWith('xox')) throw new Error('is a Slack token ("xox..."), not the app\'s signing secret');
    return Buffer.from(secret, 'utf8');
  },

  verify(request, keys, options): VerifyResult {
    const { headers } = request;
    const macs = decodeMacs(headers.get(SIGNATURE), PREFIX, 'hex');
    if (!macs) return { ok: false, code: 'signature_invalid', reason: `missing ${SIGNATURE}` };
    if (macs.length === 0) return { ok: false, code: 'signature_invalid', reason: `garbled ${SIGNATURE}` };
    const text = timestampText(headers, TIMESTAMP);
    if (typeof text !== 'string') return text;
    const timestamp = parseUnixSeconds(text, TIMESTAMP);
    if (typeof timestamp !== 'number') return timestamp;
    const match = matchAny(keys, macs, `v0:${text}:`, request.body);
    if (match < 0) return matchedNoKey('signature matches no secret', timestamp, options.nowSeconds, options.maxAgeSeconds);
    const stale = checkFreshness(timestamp, options.nowSeconds, options.maxAgeSeconds);
    if (stale) return stale;
    const eventId = eventIdOf(request.body);
    return eventId
      ? { ok: true, deliveryId: eventId, timestampSeconds: timestamp }
      : withSignedId({ timestampSeconds: timestamp }, `v0:${text}:`, request.body);
  },

  eventTypeOf: (request) => jsonStringAt(request.body, EVENT_TYPE) ?? jsonStringAt(request.body, TYPE),

  /** Slack sends no id header: the id is the body's `event_id`, so `input.id` is ignored. */
  sign(secret, input) {
    const timestamp = input.timestampSeconds ?? nowSeconds();
    const mac = createHmac('sha256', slack.decodeSecret(secret)).update(`v0:${timestamp}:`).update(input.body).digest('hex');
    return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': `${PREFIX}${mac}` };
  },
};
