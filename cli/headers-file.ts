import type { HeaderMap } from '../functions/shared/headers';
import { UsageError } from './context';

const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(\.\d)?$/;

/**
 * Parses a captured request's headers: `Name: value` lines (blank lines and `#`
 * comments ignored, an HTTP request line skipped, repeated names kept) or a JSON
 * object of name → string | string[].
 * @throws UsageError naming the bad line
 */
export const parseHeadersFile = (text: string): HeaderMap => {
  const map = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const key = name.trim().toLowerCase();
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new UsageError('headers file looks like JSON but does not parse');
    }
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item !== 'string') throw new UsageError(`headers file: "${name}" must be a string or an array of strings`);
        add(name, item);
      }
    }
    return map;
  }
  trimmed.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#') || (index === 0 && REQUEST_LINE.test(line.trim()))) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`headers file line ${index + 1}: expected "Name: value"`);
    add(line.slice(0, colon), line.slice(colon + 1).trim());
  });
  return map;
};
