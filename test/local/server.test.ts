import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, startServer } from '../helpers/cli.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { emptyDir } from '../helpers/harness.js';
import { startLocal } from '../../local/index.js';

const start = (env: Record<string, string>, cwd = emptyDir()) =>
  spawnSync(
    process.execPath,
    ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'bin', 'server.ts')],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        HOOKWARDEN_DATA_DIR: emptyDir(),
        ...env,
      },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );

describe('npm start with a bad configuration', () => {
  it('refuses to start, naming every bad variable at once', () => {
    const result = start({ WEBHOOK_MAX_AGE: 'five', CORS_ORIGINS: '*', TRUSTED_PROXIES: '10.0.0.0/99', PORT: '0' });
    expect(result.status).toBe(1);
    for (const name of ['WEBHOOK_MAX_AGE', 'CORS_ORIGINS', 'TRUSTED_PROXIES']) expect(result.stderr).toContain(`  - ${name}:`);
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses a config file with a typo in a key, and a WEBHOOK_SECRET it would ignore, naming both at once', () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'github', scheme: 'github', secretEnv: 'GH_SECRET', allowedIP: ['192.30.252.0/22'] }] }),
    );
    const result = start(
      { GH_SECRET: 'a-github-secret-long-enough', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', PORT: '0' },
      cwd,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ {2}- WEBHOOK_SECRET: is set, but the sources come from .*hookwarden\.config\.json/);
    expect(result.stderr).toMatch(
      / {2}- .*hookwarden\.config\.json sources\[0\]\.allowedIP: unknown key; the nearest known key is "allowedIps"/,
    );
    expect(result.stderr).not.toContain('MfKQ9r8');
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses a port that is not a port', () => {
    const result = start({ PORT: 'eighty' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT: must be a port number/);
  });

  it('refuses a port fetch will not connect to: send, replay, tail and listen, and a browser, could not reach it', () => {
    const result = start({ PORT: '6000' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT: port 6000 is one fetch refuses to connect to/);
    expect(result.stdout).not.toContain('listening');
  });

  it('refuses a request timeout that is not a number of seconds, with the port in the same message', () => {
    const result = start({ PORT: 'eighty', HOOKWARDEN_REQUEST_TIMEOUT_SECONDS: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT: must be a port number/);
    expect(result.stderr).toMatch(/HOOKWARDEN_REQUEST_TIMEOUT_SECONDS: must be a whole number of seconds/);
  });
  it('names the configuration, the reader settings and the local variables in one message', () => {
    const result = start({
      WEBHOOK_MAX_AGE: 'five',
      HOOKWARDEN_API_RATE_LIMIT: 'lots',
      HOOKWARDEN_STREAM_SETTLE_MS: 'soon',
      PORT: 'eighty',
      HOOKWARDEN_REQUEST_TIMEOUT_SECONDS: '0',
      HOOKWARDEN_CONTROLS_REFRESH_SECONDS: 'often',
      WEBHOOK_SECRET_CACHE_SECONDS: '-1',
    });
    expect(result.status).toBe(1);
    for (const name of [
      'WEBHOOK_MAX_AGE',
      'HOOKWARDEN_API_RATE_LIMIT',
      'HOOKWARDEN_STREAM_SETTLE_MS',
      'PORT',
      'HOOKWARDEN_REQUEST_TIMEOUT_SECONDS',
      'HOOKWARDEN_CONTROLS_REFRESH_SECONDS',
      'WEBHOOK_SECRET_CACHE_SECONDS',
    ])
      expect(result.stderr).toContain(`  - ${name}:`);
    expect(result.stdout).not.toContain('listening');
  });

  // Read unchecked, "often" froze the blocklist at its first read (a refresh period of NaN ms is never
  // reached), and "-1" made every delivery 503 (a state is always older than a negative bound).
  it.each(['often', '-1', '0', '1.5', '3601'])('refuses HOOKWARDEN_CONTROLS_REFRESH_SECONDS=%s', (value) => {
    const result = start({ PORT: '0', HOOKWARDEN_CONTROLS_REFRESH_SECONDS: value });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `  - HOOKWARDEN_CONTROLS_REFRESH_SECONDS: must be a whole number from 1 to 3600, got ${JSON.stringify(value)}`,
    );
    expect(result.stdout).not.toContain('listening');
  });

  it('names a bad WEBHOOK_SECRET_CACHE_SECONDS once when the sources come from a config file', () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'github', scheme: 'github', secretEnv: 'GH_SECRET' }] }),
    );
    const result = start({ PORT: '0', GH_SECRET: 'a-github-secret-long-enough', WEBHOOK_SECRET_CACHE_SECONDS: 'x' }, cwd);
    expect(result.status).toBe(1);
    expect(result.stderr.match(/- WEBHOOK_SECRET_CACHE_SECONDS:/g)).toHaveLength(1);
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

describe('npm start stops cleanly', () => {
  // `npm start | head`, or a `| tee` that Ctrl+C ends first: the "stopping" line met a closed pipe, and the EPIPE
  // crashed the server before it closed its store and removed server.json.
  it('on SIGINT when its standard output is a pipe nobody reads any more', async () => {
    const dataDir = emptyDir();
    const server = await startServer({ HOOKWARDEN_DATA_DIR: dataDir }, emptyDir());
    expect(existsSync(join(dataDir, 'server.json'))).toBe(true);
    server.process.stdout?.destroy();
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    server.process.kill('SIGINT');
    expect(await exited, server.output()).toBe(0);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  });
});

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('npm start keeps its data directory private', () => {
  it('makes the directory 0700 and every file in it 0600 at every start, a lax dev-secrets.json included', async () => {
    const dataDir = emptyDir();
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'dev-secrets.json'), '{}', { mode: 0o644 });
    chmodSync(join(dataDir, 'dev-secrets.json'), 0o644);
    const first = await startServer({ HOOKWARDEN_DATA_DIR: dataDir }, emptyDir());
    first.process.kill('SIGTERM');
    await new Promise((resolve) => first.process.once('exit', resolve));
    // An earlier version (or a copy) left everything readable: the next start closes it again.
    const loosen = (dir: string): void => {
      chmodSync(dir, 0o755);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) loosen(join(dir, entry.name));
        else chmodSync(join(dir, entry.name), 0o644);
      }
    };
    loosen(dataDir);
    const server = await startServer({ HOOKWARDEN_DATA_DIR: dataDir }, emptyDir());
    try {
      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(join(dataDir, 'dev-secrets.json'))).toBe('600');
      expect(modeOf(join(dataDir, 'server.json'))).toBe('600');
      expect(modeOf(join(dataDir, 'dynamodb'))).toBe('700');
      const stored = readdirSync(join(dataDir, 'dynamodb')).filter((name) => statSync(join(dataDir, 'dynamodb', name)).isFile());
      expect(stored.length).toBeGreaterThan(0);
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});

/** Every directory and file under `dir`, with its mode, as `700 path`. */
const modesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return [`${modeOf(path)} ${path}`, ...(entry.isDirectory() ? modesUnder(path) : [])];
  });

describe('npm start in a new data directory', () => {
  it('leaves no directory above 0700 and no file above 0600 once it has started, the store’s own included', async () => {
    const dataDir = join(emptyDir(), 'data');
    const local = await startLocal({ env: { HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' }, cwd: emptyDir() });
    try {
      const modes = modesUnder(dataDir);
      expect(modes.some((line) => line.includes(join('dynamodb', 'CURRENT')))).toBe(true);
      expect(modes.some((line) => line.includes(join('keys', 'default.json')))).toBe(true);
      expect(modeOf(dataDir)).toBe('700');
      expect(modes.filter((line) => !/^(700|600) /.test(line))).toEqual([]);
    } finally {
      await local.close();
    }
  });
});

describe('npm start in a directory that holds other files', () => {
  // HOOKWARDEN_DATA_DIR=. (a project folder): every file under it became 0600 and every directory 0700,
  // scripts and node_modules/.bin included.
  it('closes its own entries and leaves everything else in the directory as it was', async () => {
    const dataDir = emptyDir();
    writeFileSync(join(dataDir, 'build.sh'), '#!/bin/sh\n', { mode: 0o755 });
    chmodSync(join(dataDir, 'build.sh'), 0o755);
    mkdirSync(join(dataDir, 'src'), { mode: 0o755 });
    chmodSync(join(dataDir, 'src'), 0o755);
    writeFileSync(join(dataDir, 'src', 'index.ts'), '', { mode: 0o644 });
    chmodSync(join(dataDir, 'src', 'index.ts'), 0o644);
    const local = await startLocal({ env: { HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' }, cwd: emptyDir() });
    try {
      expect([modeOf(join(dataDir, 'build.sh')), modeOf(join(dataDir, 'src')), modeOf(join(dataDir, 'src', 'index.ts'))]).toEqual([
        '755',
        '755',
        '644',
      ]);
      expect(modeOf(dataDir)).toBe('700');
      const own = modesUnder(dataDir).filter((line) => !line.includes('build.sh') && !line.includes(`${join(dataDir, 'src')}`));
      expect(own.some((line) => line.includes(join('keys', 'default.json')))).toBe(true);
      expect(own.filter((line) => !/^(700|600) /.test(line))).toEqual([]);
    } finally {
      await local.close();
    }
  });
});

describe('npm start and the CLI on Node 20', () => {
  // An empty value is what a user who never heard of the variable has (the test runner itself sets it).
  const unset = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' };

  it('print no AWS SDK Node version notice', async () => {
    const dataDir = emptyDir();
    const server = await startServer({ HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, ...unset }, emptyDir());
    try {
      const listed = await cli(['deliveries'], { HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, ...unset });
      expect(listed.code).toBe(0);
      expect(listed.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK/);
      await fetch(`${/listening on (\S+)/.exec(server.output())?.[1]}/health/ready`);
      expect(server.output()).not.toMatch(/NodeVersionSupportWarning|AWS SDK/);
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});

describe('npm start and a client that goes away mid-upload', () => {
  it("logs a client event with that request's own context, not an ERROR with a stack", async () => {
    const server = await startServer({ HOOKWARDEN_DATA_DIR: emptyDir(), WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks }, emptyDir());
    try {
      const url = new URL(/listening on (\S+)/.exec(server.output())?.[1] as string);
      // A first request, so a logger that kept the previous context would show it.
      expect((await fetch(`${url.origin}/health`)).status).toBe(200);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write('POST /webhooks/default HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"partial":', () =>
            setImmediate(() => {
              socket.destroy();
              resolve();
            }),
          );
        });
      });
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line:\n${server.output()}`)), 10_000);
        const look = (): void => {
          const found = server
            .output()
            .split('\n')
            .find((l) => l.includes('client closed the connection'));
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else setTimeout(look, 50);
        };
        look();
      });
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.level).toBe('INFO');
      expect(entry.function_name).toBe('hookwarden-webhook');
      expect(entry.path).toBe('/webhooks/default');
      expect(line).not.toMatch(/stack|ECONNRESET/);
      expect(server.output()).not.toContain('"level":"ERROR"');
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});
