import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startServer, type RunningServer } from '../helpers/cli';
import { emptyDir } from '../helpers/harness';
import { TEST_SECRETS } from '../helpers/secrets';

describe('hookwarden --help and bad arguments', () => {
  it.each([[['--help']], [['sign', '--help']], [['send', '--help']], [['verify', '--help']], [['deliveries', '--help']], [['deliveries', 'show', '--help']]])(
    '%j prints usage and exits 0',
    async (args) => {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: hookwarden/);
    },
  );

  it.each([
    [['bogus'], /unknown command/],
    [['sign'], /missing required argument/],
    [['sign', 'default', '--bogus'], /unknown option/],
    [['sign', 'nope'], /unknown source "nope"/],
    [['sign', 'default', '--timestamp', 'soon'], /--timestamp must be a whole number/],
    [['verify', 'default', '--body', 'x'], /--headers/],
    [['verify', 'default', '--headers', 'missing.txt', '--body', 'missing.bin'], /cannot read .*missing/],
    [['deliveries', '--limit', '-3'], /--limit|unknown option/],
    [['send', 'default', '--data', '{}', '--file', 'x.json'], /not both/],
  ])('%j exits 2 with a clear message', async (args, message) => {
    const r = await cli(args, { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('reports a bad configuration with every problem, exit 2', async () => {
    const r = await cli(['sign', 'default'], { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, WEBHOOK_MAX_AGE: 'x', CORS_ORIGINS: '*' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WEBHOOK_MAX_AGE/);
    expect(r.stderr).toMatch(/CORS_ORIGINS/);
  });
});

describe('sign → verify round trip per scheme', () => {
  const schemes: Array<[string, string, Record<string, string>]> = [
    ['standard-webhooks', TEST_SECRETS.standardWebhooks, {}],
    ['github', TEST_SECRETS.github, {}],
    ['stripe', TEST_SECRETS.stripe, {}],
    ['slack', TEST_SECRETS.slack, {}],
    ['shopify', TEST_SECRETS.shopify, {}],
    ['hmac', TEST_SECRETS.hmac, { WEBHOOK_HMAC_HEADER: 'x-signature', WEBHOOK_HMAC_PREFIX: 'sha256=', WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-timestamp', WEBHOOK_HMAC_TEMPLATE: '{timestamp}.{body}' }],
  ];

  it.each(schemes)('%s: a signed capture verifies; one flipped byte does not', async (scheme, secret, extra) => {
    const env = { WEBHOOK_SCHEME: scheme, WEBHOOK_SECRET: secret, ...extra };
    const dir = emptyDir();
    const body = JSON.stringify({ id: 'evt_cli_1', type: 'cli.test', event_id: 'EvCLI1' });
    const signed = await cli(['sign', 'default', '--data', body], env, dir);
    expect(signed.code).toBe(0);
    writeFileSync(join(dir, 'headers.txt'), `POST /webhooks/default HTTP/1.1\n# captured\n${signed.stdout}`);
    writeFileSync(join(dir, 'body.bin'), body);
    const ok = await cli(['verify', 'default', '--headers', 'headers.txt', '--body', 'body.bin'], env, dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^valid: id=\S+ event=/);
    writeFileSync(join(dir, 'body.bin'), body.replace('cli.test', 'cli.tesu'));
    const bad = await cli(['verify', 'default', '--headers', 'headers.txt', '--body', 'body.bin'], env, dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^invalid: signature_invalid/);
    expect(bad.stdout + bad.stderr).not.toContain(secret);
  });

  it('reports a stale capture as timestamp_out_of_range', async () => {
    const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };
    const dir = emptyDir();
    const signed = await cli(['sign', 'default', '--data', '{}', '--timestamp', '1700000000'], env, dir);
    writeFileSync(join(dir, 'h.json'), JSON.stringify(Object.fromEntries(signed.stdout.trim().split('\n').map((l) => l.split(': ')))));
    writeFileSync(join(dir, 'b.bin'), '{}');
    const r = await cli(['verify', 'default', '--headers', 'h.json', '--body', 'b.bin'], env, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: timestamp_out_of_range/);
  });
});

describe('send and deliveries against a running npm start', () => {
  const dataDir = emptyDir();
  const cwd = emptyDir();
  let server: RunningServer;
  let banner = '';
  const env = { HOOKWARDEN_DATA_DIR: dataDir };

  beforeAll(async () => {
    // No secret configured: the server generates one and the CLI must pick it up.
    server = await startServer(env, cwd);
    banner = server.output();
  });

  afterAll(() => {
    if (server.process.exitCode === null) server.process.kill('SIGKILL');
  });

  it('prints the URL, the sources, a generated development secret and a signed test request', () => {
    expect(banner).toMatch(/Hookwarden is listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toMatch(/default\s+standard-webhooks/);
    expect(banner).toMatch(/generated a development secret[\s\S]*whsec_/);
    expect(banner).toMatch(/curl -i -X POST .*webhook-signature: v1,/);
  });

  it('sends a signed delivery (202), then the same id again (200 duplicate)', async () => {
    const first = await cli(['send', 'default', '--id', 'msg_cli_1', '--data', '{"type":"cli.sent"}'], env, cwd);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^HTTP 202/);
    const again = await cli(['send', 'default', '--id', 'msg_cli_1', '--data', '{"type":"cli.sent"}'], env, cwd);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^HTTP 200[\s\S]*"duplicate"/);
  });

  it('exits 1 on a non-2xx answer', async () => {
    const r = await cli(['send', 'default', '--secret-env', 'WRONG'], { ...env, WRONG: TEST_SECRETS.standardWebhooksSecond }, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^HTTP 401[\s\S]*signature_invalid/);
  });

  it('lists deliveries through the running server, then from the data directory after SIGTERM', async () => {
    const live = await cli(['deliveries'], env, cwd);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/default {2}msg_cli_1 {2}cli\.sent/);

    const exited = new Promise<number | null>((resolve) => server.process.on('exit', (code) => resolve(code)));
    server.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);

    const stored = await cli(['deliveries', '--json'], env, cwd);
    expect(stored.code).toBe(0);
    expect(JSON.parse(stored.stdout)).toEqual([expect.objectContaining({ deliveryId: 'msg_cli_1', eventType: 'cli.sent' })]);
    const shown = await cli(['deliveries', 'show', 'default', 'msg_cli_1', '--body'], env, cwd);
    expect(shown.stdout).toContain('{"type":"cli.sent"}');
  });
});
