import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyDir } from '../helpers/harness.js';
import { ROOT } from '../helpers/cli.js';

/** The packages a CLI run loaded, by specifier. */
const packagesLoaded = (args: string[], env: Record<string, string> = {}): { status: number | null; packages: Set<string> } => {
  const record = join(emptyDir(), 'packages.txt');
  const run = spawnSync(
    process.execPath,
    ['--import', join(import.meta.dirname, 'fixtures', 'record-packages.mjs'), join(ROOT, 'bin', 'hookwarden-cli.mjs'), ...args],
    { cwd: emptyDir(), env: { PATH: process.env.PATH ?? '', RECORD_PACKAGES_FILE: record, ...env }, encoding: 'utf8' },
  );
  let text = '';
  try {
    text = readFileSync(record, 'utf8');
  } catch {
    // Nothing resolved: the run failed before it imported anything.
  }
  return { status: run.status, packages: new Set(text.split('\n').filter(Boolean)) };
};

/** What only some commands need: the embedded store and the clients of the AWS services a command talks to. */
const HEAVY = ['dynalite', '@aws-sdk/client-dynamodb', '@aws-sdk/client-cloudformation', '@aws-sdk/client-wafv2'];

describe('the command line loads what the command needs', () => {
  it('prints --version, signs and refuses bad usage without the embedded store or the AWS service clients', () => {
    const secret = { WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    for (const [args, status] of [
      [['--version'], 0],
      [['sign', 'default', '--data', '{}'], 0],
      [['sign', 'nope'], 2],
    ] as const) {
      const run = packagesLoaded([...args], secret);
      expect(run.status, args.join(' ')).toBe(status);
      // The recorder works: commander is always loaded.
      expect(run.packages.has('commander')).toBe(true);
      expect(
        HEAVY.filter((name) => run.packages.has(name)),
        args.join(' '),
      ).toEqual([]);
    }
  });

  it('loads the embedded store for a command that reads it', () => {
    const run = packagesLoaded(['deliveries']);
    expect(run.packages.has('dynalite')).toBe(true);
  });
});
