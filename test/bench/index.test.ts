import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

describe('npm run bench -- <section>', () => {
  it('names an unknown section and the known ones, exit 2, without a stack trace (and runs nothing)', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'bench', 'index.ts'), 'verfy'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.stderr).toBe(
      'bench: unknown section verfy (known: verify, event-type, dynamodb, rate-limit, server, cold-start, stream, security)\n',
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
  });
});
