import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const npmStart = (env: Record<string, string>, dataDir = emptyDir()) =>
  spawnSync(
    process.execPath,
    ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'bin', 'server.ts')],
    {
      cwd: emptyDir(),
      env: { PATH: process.env.PATH ?? '', HOOKWARDEN_DATA_DIR: dataDir, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );

describe('npm start and the command line speak with one voice: "hookwarden: " and a lower-case message', () => {
  const bad = { WEBHOOK_MAX_AGE: 'five', CORS_ORIGINS: '*' };

  it('the same configuration problem reads the same from both', async () => {
    const fromCli = await cli(['sign', 'default'], { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, ...bad });
    const fromServer = npmStart({ PORT: '0', ...bad });
    for (const stderr of [fromCli.stderr, fromServer.stderr]) {
      expect(stderr).toMatch(/^hookwarden: invalid configuration:\n {2}- WEBHOOK_MAX_AGE: [^\n]+\n {2}- CORS_ORIGINS: /);
    }
  });

  // An origin copied with its credentials (a deploy URL, a browser's address bar): refused by both, neither prints them.
  it('an origin given as https://user:password@host or with ?token= is refused by both without its credentials', async () => {
    const password = 'pw-horse-battery-staple-42';
    const token = 'tok-orange-lantern-river-7';
    const origins = { CORS_ORIGINS: `https://deploy:${password}@app.example.com,https://app.example.com/?token=${token}` };
    const fromCli = await cli(['sign', 'default'], { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, ...origins });
    const fromServer = npmStart({ PORT: '0', ...origins });
    expect(fromServer.status).toBe(1);
    for (const stderr of [fromCli.stderr, fromServer.stderr]) {
      expect(stderr).toMatch(/^hookwarden: invalid configuration:\n {2}- CORS_ORIGINS: [^\n]*app\.example\.com/);
      for (const secret of [password, token])
        for (let i = 0; i + 12 <= secret.length; i += 1) expect(stderr).not.toContain(secret.slice(i, i + 12));
    }
  });

  it('a data directory that is a file, or under one: a configuration problem listed with the others, never a stack trace', () => {
    const file = join(emptyDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    for (const [dataDir, problem] of [
      [file, `${file} is not a directory`],
      [join(file, 'data'), `${file} is not a directory, so ${join(file, 'data')} cannot be made`],
    ] as const) {
      const result = npmStart({ PORT: '0', HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_MAX_AGE: 'five' });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `hookwarden: invalid configuration:\n  - WEBHOOK_MAX_AGE: must be a whole number from 1 to 86400, got "five"\n  - HOOKWARDEN_DATA_DIR: ${problem}\n`,
      );
    }
  });

  it('a port in use', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const result = npmStart({ PORT: port });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`hookwarden: port ${port} is in use: set PORT to another port (PORT=0 picks a free one)\n`);
    } finally {
      taken.close();
    }
  });

  it('a failure to start says what failed, without a stack trace unless DEBUG=true asks for it', () => {
    const dataDir = emptyDir();
    mkdirSync(dataDir, { recursive: true });
    // A development-secrets file cut short (a disk that filled up, an editor's crash): it holds a secret.
    const secret = TEST_SECRETS.standardWebhooks;
    writeFileSync(join(dataDir, 'dev-secrets.json'), `{"default":"${secret}",`, { mode: 0o600 });
    const quiet = npmStart({ PORT: '0' }, dataDir);
    expect(quiet.status).toBe(1);
    expect(quiet.stderr).toBe(
      `hookwarden: failed to start: ${join(dataDir, 'dev-secrets.json')} is not valid JSON: delete it and run npm start to generate new development secrets\n` +
        'hookwarden: run with DEBUG=true to print where it failed\n',
    );
    const debug = npmStart({ PORT: '0', DEBUG: 'true' }, dataDir);
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/^hookwarden: failed to start: [^\n]+ is not valid JSON[^\n]+\n[^\n]*Error: [^\n]+\n {4}at /);
    for (const stderr of [quiet.stderr, debug.stderr]) expect(stderr).not.toContain(secret.slice(6, 18));
  });
});
