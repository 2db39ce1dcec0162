import type { HeaderMap } from '../core/headers.js';
import { UsageError } from './context.js';
import { terminalSafe } from './terminal.js';

/** `POST /webhooks/x HTTP/1.1` as the first line of a capture (curl -v, a proxy log, an HTTP client's export). */
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(\.\d)?$/;
/** RFC 9110 token: what a header name may be. Anything else means the line is not a header. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a captured request's headers into the same map the receiver builds
 * (lower-case names, every value in order):
 * - `Name: value` lines; blank lines and `#` comments ignored; a leading HTTP
 *   request line skipped; a repeated name keeps every value;
 * - or a JSON object of name → string | string[].
 * @throws UsageError naming the offending line or key (`where` prefixes the message)
 * @example parseHeadersFile('POST /webhooks/default HTTP/1.1\nwebhook-id: msg_1\n')
 */
export const parseHeadersFile = (text: string, where = 'headers file'): HeaderMap => {
  const map = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  // A BOM from a Windows editor would otherwise become part of the first header name.
  const content = text.replace(/^\uFEFF/, '');
  const start = content.trimStart()[0];
  if (start === '{' || start === '[') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      throw new UsageError(`${where}: looks like JSON but does not parse`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new UsageError(`${where}: JSON must be an object of name → value`);
    for (const [name, value] of Object.entries(parsed)) {
      // The name came from a captured request: escaped, so the error message cannot drive the terminal.
      if (!TOKEN.test(name)) throw new UsageError(`${where}: "${terminalSafe(name)}" is not a header name`);
      const values: unknown[] = Array.isArray(value) ? value : [value];
      for (const item of values) {
        if (typeof item !== 'string') throw new UsageError(`${where}: "${name}" must be a string or an array of strings`);
        add(name, item);
      }
    }
    return map;
  }
  let seenHeader = false;
  content.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!seenHeader && REQUEST_LINE.test(line)) {
      seenHeader = true;
      return;
    }
    seenHeader = true;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new UsageError(`${where} line ${index + 1}: expected "Name: value"`);
    add(name, line.slice(colon + 1).trim());
  });
  return map;
};
