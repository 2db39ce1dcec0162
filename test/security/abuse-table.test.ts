import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
const CASES = [
  'Replay',
  'Forged signature',
  'Timing attacks on the compare',
  'Oversized payload',
  'IP spoofing via `X-Forwarded-For`',
  'Rate abuse',
  'Secret leakage',
  'CORS misuse',
];

/** The table's rows: abuse case → the `file` › "test name" references of its last cell. */
const rows = (): Map<string, Array<{ file: string; name: string }>> => {
  const section = DOC.split('\n## ')[1] ?? '';
  const table = new Map<string, Array<{ file: string; name: string }>>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| abuse case'))) {
    const cells = line.split(' | ');
    const references = [...(cells.at(-1) ?? '').matchAll(/`(test\/[^`]+)` › "([^"]+)"/g)].map((m) => ({
      file: m[1] as string,
      name: m[2] as string,
    }));
    table.set((cells[0] as string).slice(2), references);
  }
  return table;
};

describe('docs/security.md: the abuse-case table', () => {
  it('has a row for every OWASP webhook abuse case, each naming at least one test', () => {
    const table = rows();
    for (const name of CASES) expect(table.get(name)?.length ?? 0, name).toBeGreaterThan(0);
  });

  it('names only tests that exist: the file, and a test of exactly that name in it', () => {
    const missing: string[] = [];
    for (const references of rows().values()) {
      for (const { file, name } of references) {
        const path = join(ROOT, file);
        const source = existsSync(path) ? readFileSync(path, 'utf8') : '';
        // A test name is the first argument of it(...), test(...) or it.each(...)(...): a string literal right after "("
        // (the formatter may break the line there).
        const literal = (q: string): RegExp => new RegExp(`\\(\\s*${q}${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${q}`);
        if (!["'", '"', '`'].some((q) => literal(q).test(source))) missing.push(`${file} › ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
