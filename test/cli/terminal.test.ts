import { describe, expect, it } from 'vitest';
import { terminalSafe, terminalSafeJson } from '../../cli/terminal.js';

/** Every character "Trojan Source" (CVE-2021-42574) reorders text with, and the two separators. */
const INVISIBLE = [
  '\u061c',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u2028',
  '\u2029',
];

describe('terminalSafe', () => {
  it.each(INVISIBLE)('shows U+%s as a visible escape, in a line and in a body', (c) => {
    const code = c.charCodeAt(0).toString(16);
    expect(terminalSafe(`evt_${c}fdp.exe`)).toBe(`evt_\\u{${code}}fdp.exe`);
    expect(terminalSafe(`a\n${c}b`, { layout: true })).toBe(`a\n\\u{${code}}b`);
  });

  it('keeps other text, line feeds and tabs of a body as they are', () => {
    expect(terminalSafe('héllo — ✓ 日本', { layout: true })).toBe('héllo — ✓ 日本');
    expect(terminalSafe('a\tb\nc', { layout: true })).toBe('a\tb\nc');
    expect(terminalSafe('a\tb')).toBe('a\\x09b');
  });

  it('escapes them in --json as \\uXXXX, the same value to a JSON reader', () => {
    const value = { id: `x\u202ey\u007f\u2028` };
    const text = terminalSafeJson(value);
    expect(text).not.toMatch(/[\u007f\u202e\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
