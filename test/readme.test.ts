import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../cli/program.js';
import { cliContext } from '../cli/context.js';
import { loadConfig } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { emptyDir } from './helpers/harness.js';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README stays true', () => {
  it('its example hookwarden.config.json loads', () => {
    const example = /```json\n([\s\S]*?)\n```/.exec(README)?.[1] as string;
    const dir = emptyDir();
    writeFileSync(join(dir, 'hookwarden.config.json'), example);
    const config = loadConfig(
      {
        GITHUB_WEBHOOK_SECRET: 'gh-example-secret-0123',
        STRIPE_WEBHOOK_SECRET: 'whsec_stripe_example',
        BILLING_SECRET: 'billing-example-secret',
      },
      dir,
    );
    expect([...config.sources.keys()]).toEqual(['github', 'stripe', 'billing']);
  });

  it('documents every environment variable the configuration reads', () => {
    const source = ['index.ts', 'rules.ts', 'sources.ts']
      .map((f) => readFileSync(join(import.meta.dirname, '..', 'core', 'config', f), 'utf8'))
      .join('\n');
    const read = new Set([...source.matchAll(/env\.([A-Z_]{4,})/g), ...source.matchAll(/'(WEBHOOK_[A-Z_]+)'/g)].map((m) => m[1] as string));
    for (const name of read) expect(README, name).toContain(name);
  });

  it('its command-line table is one table with one row per command of hookwarden --help', () => {
    const start = README.indexOf('| command | what it does |');
    const rows: string[] = [];
    for (const line of README.slice(start).split('\n').slice(2)) {
      if (!line.startsWith('|')) break; // a blank line ends the table: rows after it are not in it
      rows.push(line.split(' | ')[0] as string);
    }
    const documented = rows.flatMap((cell) =>
      [...cell.matchAll(/`hookwarden ([a-z]+(?: (?:show|create|list|revoke)\b)?)/g)].map((m) => m[1]),
    );
    const program = createProgram(cliContext({}, emptyDir()), { code: 0 });
    const commands = program.commands
      .filter((c) => c.name() !== 'help')
      .flatMap((c) => {
        const subcommands = c.commands.filter((s) => s.name() !== 'help').map((s) => `${c.name()} ${s.name()}`);
        // A command with options of its own (deliveries) is a command too; one that only groups others (token) is not.
        return c.options.length > 0 || subcommands.length === 0 ? [c.name(), ...subcommands] : subcommands;
      });
    expect(documented.sort()).toEqual(commands.sort());
  });

  it('names every section npm run bench runs, in the layout and in the benchmark section', () => {
    const index = readFileSync(join(import.meta.dirname, '..', 'bench', 'index.ts'), 'utf8');
    const sections = [.../const DEFAULT[^=]*= \[([^\]]*)\]/.exec(index)![1]!.matchAll(/'([a-z-]+)'/g)].map((m) => m[1] as string);
    expect(sections.length).toBeGreaterThan(5);
    const layout = /^bench\/ +npm run bench \(([^)]*)\)/m.exec(README)?.[1]?.split(', ');
    const oneSection = /`npm run bench -- verify` \(or ([^)]*)\)/.exec(README)?.[1]?.match(/`[a-z-]+`/g);
    expect(layout?.sort()).toEqual([...sections].sort());
    expect(['verify', ...(oneSection ?? []).map((s) => s.slice(1, -1))].sort()).toEqual([...sections].sort());
  });

  it('its configuration error examples are what the parser reports', () => {
    const problemsOf = (env: Record<string, string>, dir = emptyDir()): string => {
      try {
        loadConfig(env, dir);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.join('\n');
        throw error;
      }
      throw new Error('expected a ConfigError');
    };
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    // The block under "every problem is reported together".
    const block = /^hookwarden: invalid configuration:\n((?: {2}- .*\n)+)```/m.exec(README)?.[1] as string;
    expect(block.trimEnd().replaceAll('  - ', '')).toBe(problemsOf({ WEBHOOK_SECRET: secret, WEBHOOK_MAX_AGE: '5m', CORS_ORIGINS: '*' }));
    // A short key, in any scheme's wording.
    const short = /\(`(WEBHOOK_SECRET: key #2 of 2 has 1 byte of key material; at least 16 are needed)`\)/.exec(README)?.[1] as string;
    expect(problemsOf({ WEBHOOK_SECRET: `${secret},whsec_AA==` })).toBe(short);
    expect(problemsOf({ WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: 'Str0ngRandomSecretValue,x' })).toBe(short);
    // A typo in the file.
    const typo = /\(`(sources\[0\]\.allowedIP: unknown key; [^`]*)`\)/.exec(README)?.[1] as string;
    const dir = emptyDir();
    writeFileSync(join(dir, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'a', scheme: 'github', allowedIP: [] }] }));
    expect(problemsOf({}, dir)).toContain(typo);
  });

  it('its Layout names every entry point in bin/ and every function in functions/', () => {
    const layout = (/^## Layout\n\n```\n([\s\S]*?)\n```/m.exec(README)?.[1] ?? '').split('\n');
    // A folder's entry: its line and the indented lines after it, as words.
    const words = (dir: string): Set<string> => {
      const first = layout.findIndex((line) => line.startsWith(`${dir}/ `));
      const rest = layout.slice(first + 1).findIndex((line) => !line.startsWith(' '));
      const lines = layout.slice(first, rest === -1 ? undefined : first + 1 + rest);
      return new Set(lines.join(' ').split(/[\s,;:()]+/));
    };
    const root = join(import.meta.dirname, '..');
    const bin = words('bin');
    expect(readdirSync(join(root, 'bin')).filter((file) => !bin.has(file))).toEqual([]);
    const functions = words('functions');
    expect(readdirSync(join(root, 'functions')).filter((folder) => !functions.has(`${folder}/`))).toEqual([]);
  });

  it('shows both commands of a fresh machine', () => {
    expect(README).toContain('npm ci && npm start');
    expect(README).toContain('npm ci && npm test');
  });
});
