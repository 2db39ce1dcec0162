import { jsonObject, stringField } from './ids.js';

/**
 * Reading one string of a verified JSON body without parsing the whole body.
 * A scheme reads its event type after every verification, and JSON.parse
 * builds the whole document to return one short string: 7.5 µs for a 0.9 KB
 * body, 2.2 ms for a 235 KB one (Node 20). The scan here walks the objects on
 * the way to the string and steps over every other value, allocating nothing
 * but the answer: 1.6-2.2× JSON.parse's speed at 1 KiB and 2.5-2.9× at 256 KiB
 * on bodies of many short strings, its worst case (`npm run bench -- event-type`).
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** JSON's whitespace: space, line feed, carriage return, tab (nothing else, not even a byte order mark). */
export const isJsonSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

const skipSpace = (body: Buffer, at: number): number => {
  while (isJsonSpace(body[at])) at++;
  return at;
};

/** Inside a string: 1 at its closing quote, 2 at a backslash (it escapes the byte after it), else 0. */
const IN_STRING = (() => {
  const table = new Uint8Array(256);
  table[QUOTE] = 1;
  table[BACKSLASH] = 2;
  return table;
})();
/** Between a container's strings: 1 at a quote, 2 at an opening bracket, 3 at a closing one, else 0. */
const IN_CONTAINER = (() => {
  const table = new Uint8Array(256);
  table[QUOTE] = 1;
  table[OPEN_OBJECT] = table[OPEN_ARRAY] = 2;
  table[CLOSE_OBJECT] = table[CLOSE_ARRAY] = 3;
  return table;
})();
/** How far a string is walked byte by byte before the native quote search takes over. */
const SHORT_STRING = 32;

/** The index of the first quote at or after `from` that no backslash escapes, or -1. */
const closingQuoteFrom = (body: Buffer, from: number): number => {
  for (let at = body.indexOf(QUOTE, from); at >= 0; at = body.indexOf(QUOTE, at + 1)) {
    let slashes = 0;
    while (body[at - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
  return -1;
};

/** The index of the quote closing the string opened at `open`, or -1. */
export const stringEnd = (body: Buffer, open: number): number => {
  let at = open + 1;
  // Walking a short string is cheaper than a search; long ones go to the native indexOf.
  const stop = Math.min(body.length, at + SHORT_STRING);
  let kind = 0;
  while (at < stop && (kind = IN_STRING[body[at] as number] as number) !== 1) at += kind === 2 ? 2 : 1;
  return kind === 1 ? at : closingQuoteFrom(body, at);
};

/**
 * The index just after the bracket that closes the containers open at `at`,
 * `depth` of them, or -1. Strings are stepped over whole; what is inside the
 * containers is not checked (see {@link jsonStringAt} on malformed bodies).
 * This walk is the scan's hot loop: a table lookup per byte, and strings walked
 * inline (calling {@link stringEnd} for each cost a third more on 1 KiB bodies of short strings).
 */
const afterClose = (body: Buffer, at: number, depth: number): number => {
  const length = body.length;
  while (at < length) {
    const kind = IN_CONTAINER[body[at] as number];
    if (kind === 0) at++;
    else if (kind === 1) {
      at++;
      const stop = Math.min(length, at + SHORT_STRING);
      let inString = 0;
      while (at < stop && (inString = IN_STRING[body[at] as number] as number) !== 1) at += inString === 2 ? 2 : 1;
      if (inString !== 1 && (at = closingQuoteFrom(body, at)) < 0) return -1;
      at++;
    } else if (kind === 2) {
      depth++;
      at++;
    } else {
      at++;
      if (--depth === 0) return at;
    }
  }
  return -1;
};

/** The index just after the value that starts at `at`, or -1 when none starts there. */
const valueEnd = (body: Buffer, at: number): number => {
  const first = body[at];
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) return afterClose(body, at + 1, 1);
  if (first === QUOTE) {
    const end = stringEnd(body, at);
    return end < 0 ? -1 : end + 1;
  }
  // A number or a literal: up to the next delimiter.
  const start = at;
  for (let byte = body[at]; byte !== undefined && byte !== COMMA && byte !== CLOSE_OBJECT && byte !== CLOSE_ARRAY && !isJsonSpace(byte);)
    byte = body[++at];
  return at > start ? at : -1;
};

/** What a scan found: the string, `undefined` (absent, not a string or not usable), or `null` when only a parser can tell. */
type Found = string | undefined | null;

/**
 * The string between `start` and `end` (a string's content) when it is usable as
 * an id or type (1 to 256 printable ASCII characters); `null` when it has an
 * escape, which may or may not decode to one.
 */
const usableText = (body: Buffer, start: number, end: number): Found => {
  let usable = end > start && end - start <= 256;
  for (let at = start; at < end; at++) {
    const byte = body[at] as number;
    if (byte === BACKSLASH) return null;
    // Not a printable ASCII character, nor the start of an escape: the decoded string keeps it.
    if (byte < 0x21 || byte > 0x7e) usable = false;
  }
  return usable ? body.toString('latin1', start, end) : undefined;
};

/** Whether `body` holds `wanted` at `at` (a short key: a loop is cheaper than Buffer#compare's native call). */
const sameBytes = (body: Buffer, at: number, wanted: Buffer): boolean => {
  for (let i = 0; i < wanted.length; i++) if (body[at + i] !== wanted[i]) return false;
  return true;
};

/** Whether a backslash lies between `start` and `end`. */
export const hasBackslash = (body: Buffer, start: number, end: number): boolean => {
  for (let at = start; at < end; at++) if (body[at] === BACKSLASH) return true;
  return false;
};

/** Where a scan of one object ended (just after its `}`) and what it found, or `undefined` when the text is not an object the scan understands. */
interface ObjectScan {
  readonly end: number;
  readonly found: Found;
}

/**
 * Scans the object opened at `open` for `path[level]`, and on down the path.
 * JSON.parse keeps the last of duplicate keys, so every key is looked at and a
 * later match replaces an earlier one; a key written with an escape could be
 * the wanted one, so it leaves the answer to the parser unless a plain match follows.
 */
const scanObject = (body: Buffer, open: number, path: readonly Buffer[], level: number): ObjectScan | undefined => {
  const wanted = path[level] as Buffer;
  const last = level === path.length - 1;
  let found: Found;
  let at = skipSpace(body, open + 1);
  if (body[at] === CLOSE_OBJECT) return { end: at + 1, found };
  for (;;) {
    if (body[at] !== QUOTE) return undefined;
    const keyEnd = stringEnd(body, at);
    if (keyEnd < 0) return undefined;
    const matches = keyEnd - at - 1 === wanted.length && sameBytes(body, at + 1, wanted);
    const escaped = !matches && hasBackslash(body, at + 1, keyEnd);
    at = skipSpace(body, keyEnd + 1);
    if (body[at] !== COLON) return undefined;
    at = skipSpace(body, at + 1);
    let end: number;
    if (matches && last && body[at] === QUOTE) {
      end = stringEnd(body, at);
      if (end < 0) return undefined;
      found = usableText(body, at + 1, end);
      end++;
    } else if (matches && !last && body[at] === OPEN_OBJECT) {
      const inner = scanObject(body, at, path, level + 1);
      if (!inner) return undefined;
      ({ end, found } = inner);
    } else {
      end = valueEnd(body, at);
      if (end < 0) return undefined;
      if (matches) found = undefined;
      else if (escaped) found = null;
    }
    at = skipSpace(body, end);
    if (body[at] === CLOSE_OBJECT) return { end: at + 1, found };
    if (body[at] !== COMMA) return undefined;
    at = skipSpace(body, at + 1);
  }
};

/** A path into a JSON object, its keys' bytes made once. */
export interface JsonPath {
  readonly keys: readonly [string, ...string[]];
  readonly bytes: readonly Buffer[];
}

/**
 * A path for {@link jsonStringAt}: `jsonPath('type')` is the root's `type`,
 * `jsonPath('event', 'type')` the `type` of its `event` object. Made once, at module load.
 */
export const jsonPath = (...keys: [string, ...string[]]): JsonPath => ({
  keys,
  bytes: keys.map((key) => Buffer.from(key, 'utf8')),
});

/**
 * The string at `path` in a JSON object body, when it is usable as
 * an id or type: 1 to 256 printable ASCII characters. A well-formed body
 * always yields JSON.parse's answer: the last of duplicate keys, escapes
 * decoded. Whenever the scan cannot tell on its own (an escape in a wanted
 * string or in a key at that level, a shape it does not follow) JSON.parse
 * decides. A malformed body whose errors lie inside values the scan steps over
 * may still yield a string, a fixed function of the signed bytes either way.
 * @example jsonStringAt(Buffer.from('{"type":"invoice.paid","data":{}}'), jsonPath('type')) // 'invoice.paid'
 */
export const jsonStringAt = (body: Buffer, path: JsonPath): string | undefined => {
  const first = skipSpace(body, 0);
  // JSON.parse makes an object only of text that opens with `{`.
  if (body[first] !== OPEN_OBJECT) return undefined;
  const scan = scanObject(body, first, path.bytes, 0);
  return scan && scan.found !== null && skipSpace(body, scan.end) === body.length ? scan.found : parsedStringAt(body, path.keys);
};

/** What {@link jsonStringAt} answers, read the slow way: JSON.parse of the whole body, then the path. */
export const parsedStringAt = (body: Buffer, keys: readonly [string, ...string[]]): string | undefined => {
  let value: unknown = jsonObject(body);
  for (let level = 0; level < keys.length - 1; level++) value = (value as Record<string, unknown> | undefined)?.[keys[level] as string];
  return stringField(value, keys[keys.length - 1] as string);
};
