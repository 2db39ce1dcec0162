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
