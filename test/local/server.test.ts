import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT, startServer } from '../helpers/cli';
import { emptyDir } from '../helpers/harness';

const start = (env: Record<string, string>, cwd = emptyDir()) =>
  spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'bin', 'server.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', HOOKWARDEN_DATA_DIR: emptyDir(), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('npm start with a bad configuration', () => {
  it('refuses to start, naming every bad variable at once', () => {
    const result = start({ WEBHOOK_MAX_AGE: 'five', CORS_ORIGINS: '*', TRUSTED_PROXIES: '10.0.0.0/99', PORT: '0' });
    expect(result.status).toBe(1);
    for (const name of ['WEBHOOK_MAX_AGE', 'CORS_ORIGINS', 'TRUSTED_PROXIES']) expect(result.stderr).toContain(`  - ${name}:`);
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses a config file with a typo in a key, and a WEBHOOK_SECRET it would ignore, naming both at once', () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'github', scheme: 'github', secretEnv: 'GH_SECRET', allowedIP: ['192.30.252.0/22'] }] }));
    const result = start({ GH_SECRET: 'a-github-secret-long-enough', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', PORT: '0' }, cwd);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ {2}- WEBHOOK_SECRET: is set, but the sources come from .*hookwarden\.config\.json/);
    expect(result.stderr).toMatch(/ {2}- .*hookwarden\.config\.json sources\[0\]\.allowedIP: unknown key; the nearest known key is "allowedIps"/);
    expect(result.stderr).not.toContain('MfKQ9r8');
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses a port that is not a port', () => {
    const result = start({ PORT: 'eighty' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT: must be a port number/);
  });
});

describe('npm start on a data directory it cannot use', () => {
  it('says the store is in use by another npm start, instead of crashing later', async () => {
    const dataDir = emptyDir();
    const first = await startServer({ HOOKWARDEN_DATA_DIR: dataDir }, emptyDir());
    try {
      const second = start({ HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' });
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/in use by another process/);
      expect(second.stderr).not.toMatch(/\n\s+at /);
    } finally {
      first.process.kill('SIGKILL');
    }
  });

  it('names a corrupt dev-secrets.json without quoting it', () => {
    const dataDir = emptyDir();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'dev-secrets.json'), '{"default:standard-webhooks": "whsec_half-written');
    const result = start({ HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/dev-secrets\.json is not valid JSON/);
    expect(result.stderr).not.toContain('half-written');
  });
});
