import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, startServer, type RunningServer } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const made: string[] = [];
/** A fresh directory, removed after the file's tests. */
const tempDir = (): string => {
  const dir = emptyDir();
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Resolves with the exit code, or null after `ms` (the caller then kills the process). */
const exitOf = (child: ChildProcess, ms = 15_000): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

const SW = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };

describe.concurrent('hookwarden --help and bad usage', () => {
  it.each([
    [['--help']],
    [['sign', '--help']],
    [['send', '--help']],
    [['verify', '--help']],
    [['deliveries', '--help']],
    [['deliveries', 'show', '--help']],
    [['help', 'send']],
  ])('%j prints usage on stdout and exits 0', async (args) => {
    const r = await cli(args, {}, tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hookwarden/);
    expect(r.stderr).toBe('');
  });

  it.each([['keys'], ['rotate']])("%s --help says --stack reads the source's secret, not the blocklist's WAF IP sets", async (command) => {
    const r = await cli([command, '--help'], {}, tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      "--stack <name> act on a deployed stack (the source's Secrets Manager secret from its outputs",
    );
    expect(r.stdout).not.toContain('WAF');
  });

  it('verify --help names every key verify --json prints', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'h.txt'), 'webhook-id: msg_1\n');
    writeFileSync(join(dir, 'b.bin'), '{}');
    const printed = await cli(['verify', 'default', '--headers', 'h.txt', '--body', 'b.bin', '--json'], SW, dir);
    const help = (await cli(['verify', '--help'], {}, dir)).stdout.replace(/\s+/g, ' ');
    const described = /--json print one JSON object: ([^]*?)(?: -h, --help|$)/.exec(help)?.[1] ?? '';
    for (const key of Object.keys(JSON.parse(printed.stdout) as object)) expect(described).toMatch(new RegExp(`\\b${key}\\b`));
  });

  it('with no command prints usage on stderr and exits 2', async () => {
    const r = await cli([], {}, tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: hookwarden/);
  });

  it.each([
    [['bogus'], SW, /unknown command 'bogus'/],
    [['sign'], SW, /missing required argument 'source'/],
    [['sign', 'default', '--bogus'], SW, /unknown option '--bogus'/],
    [['sign', 'nope'], SW, /unknown source "nope" \(configured: default\)/],
    [['sign', 'default', '--timestamp', 'soon'], SW, /--timestamp <unix-seconds>' argument 'soon' is invalid/],
    [['sign', 'default', '--data', '{}', '--file', 'x.json'], SW, /'--data <text>' cannot be used with option '--file <path>'/],
    [['sign', 'default', '--file', 'missing.json'], SW, /cannot read \S+missing\.json \(ENOENT\)/],
    [['sign', 'default', '--url', 'http://127.0.0.1:3000'], SW, /--url is the base URL of --curl: add --curl/],
    [['sign', 'default'], {}, /no secret for source "default": set WEBHOOK_SECRET, .*npm start/],
    [['sign', 'default', '--secret-env', 'UNSET_VAR'], {}, /--secret-env UNSET_VAR: the variable is not set/],
    [['sign', 'default', '--secret-env', 'BAD'], { BAD: 'plain-text' }, /--secret-env BAD: secret #1 is not a Standard Webhooks secret/],
    [['send', 'default', '--url', 'ftp://x'], SW, /--url <base>' argument 'ftp:\/\/x' is invalid/],
    // Appended to, `/webhooks/default` would be part of the query or fragment, and the POST go to `/`.
    [
      ['send', 'default', '--url', 'http://127.0.0.1:9?x=1'],
      SW,
      // A URL commander quotes is shown as replay shows a receiver's: query values [redacted].
      /argument 'http:\/\/127.0.0.1:9\?x=\[redacted\]' is invalid. Expected a base URL without \?query/,
    ],
    [['sign', 'default', '--curl', '--url', 'http://127.0.0.1:9/#top'], SW, /Expected a base URL without \?query or #fragment/],
    [['send', 'default', '-H', 'no colon'], SW, /--header <name:value>' argument 'no colon' is invalid/],
    // A header value cannot carry CR, LF or other controls, nor a character fetch cannot send: refused before signing, not
    // printed as an extra header line by sign, nor turned into a TypeError (exit 1) by send.
    [['sign', 'default', '--id', 'msg_1\r\nx-injected: 1'], SW, /--id <id>' argument [\s\S]* is invalid. Expected a header value/],
    [['send', 'default', '--id', 'msg_1\nx: 1', '--url', 'http://127.0.0.1:9'], SW, /--id <id>' argument [\s\S]* is invalid/],
    [
      ['send', 'default', '-H', 'X-A: a\r\nx-injected: 1', '--url', 'http://127.0.0.1:9'],
      SW,
      /--header <name:value>' argument [\s\S]* is invalid/,
    ],
    [['send', 'default', '-H', 'X-A: \u2603', '--url', 'http://127.0.0.1:9'], SW, /Expected "Name: value" with a header value/],
    // fetch silently drops Host, and waits out its 30 s timeout on a Content-Length that is not the body's.
    [['send', 'default', '-H', 'Host: other.example', '--url', 'http://127.0.0.1:9'], SW, /Host belongs to the connection/],
    [['send', 'default', '-H', 'content-length: 1', '--url', 'http://127.0.0.1:9'], SW, /content-length belongs to the connection/],
    [['verify', 'default', '--body', 'b.bin'], SW, /required option '--headers <file>' not specified/],
    [
      ['verify', 'default', '--headers', 'h.txt', '--body', 'b.bin', '--now', 'later'],
      SW,
      /--now <unix-seconds>' argument 'later' is invalid/,
    ],
    [['verify', 'default', '--headers', 'missing.txt', '--body', 'missing.bin'], SW, /cannot read \S+missing\.txt \(ENOENT\)/],
    // `--headers "$FILE"` with the variable unset named the working directory: "cannot read <cwd> (EISDIR)".
    [['verify', 'default', '--headers', '', '--body', 'b.bin'], SW, /^hookwarden: --headers is empty: give the path of a file/],
    [['verify', 'default', '--headers', 'h.txt', '--body', ''], SW, /^hookwarden: --body is empty: give the path of a file/],
    [['sign', 'default', '--file', ''], SW, /^hookwarden: --file is empty: give the path of a file/],
    // Commander kept the last of two and dropped the other without a word.
    [
      ['sign', 'default', '--data', '{"a":1}', '--data', '{"a":2}'],
      SW,
      /^hookwarden: option '--data <text>' given more than once: give it once/,
    ],
    [['send', 'default', '--id', 'a', '--id', 'b', '--url', 'http://127.0.0.1:9'], SW, /option '--id <id>' given more than once/],
    [['deliveries', '--limit', '5', '--limit', '6'], SW, /option '--limit <n>' given more than once/],
    [['block', '203.0.113.7', '--for', '1h', '--for', '1d'], SW, /option '--for <duration>' given more than once/],
    // Reasons share one table item (400 KB): a pasted log as one would leave no room for the next block.
    [['block', '203.0.113.7', '--for', '1h', '--reason', 'a'.repeat(501)], SW, /^hookwarden: --reason: at most 500 characters, got 501 \(/],
    [['disable', 'default', '--reason', 'a'.repeat(501)], SW, /^hookwarden: --reason: at most 500 characters, got 501 \(/],
    // `--stack "$STACK"` with the variable unset: it acted on the local store, exit 0.
    [
      ['block', '203.0.113.7', '--for', '1h', '--stack', ''],
      SW,
      /--stack <name>' argument '' is invalid. Expected a CloudFormation stack name/,
    ],
    [['rotate', 'default', '--stack', ''], SW, /--stack <name>' argument '' is invalid/],
    [['token', 'list', '--stack', ' '], SW, /--stack <name>' argument ' ' is invalid/],
    [['tail', '--stack', '', '--token-env', 'HW_TOKEN'], SW, /--stack <name>' argument '' is invalid/],
    // fetch refuses the Fetch standard's bad ports: "cannot reach …: bad port (is npm start running?)", and listen passed every delivery by.
    [
      ['listen', '--forward-to', 'http://127.0.0.1:6666/'],
      SW,
      /--forward-to <url>' argument .* is invalid. Expected a receiver on another port: port 6666 is one fetch refuses/,
    ],
    [['replay', 'default', 'msg_1', '--to', 'http://127.0.0.1:6000/x'], SW, /port 6000 is one fetch refuses to connect to/],
    [['send', 'default', '--url', 'http://127.0.0.1:6000'], SW, /^hookwarden: --url: port 6000 is one fetch refuses to connect to/],
    [
      ['send', 'default'],
      { ...SW, PORT: '6000' },
      /^hookwarden: the local server at http:\/\/127.0.0.1:6000: port 6000 is one fetch refuses/,
    ],
    [['deliveries', '--limit', 'ten'], SW, /--limit <n>' argument 'ten' is invalid/],
    [['deliveries', '--limit', '0'], SW, /Expected a whole number from 1 to 10000/],
    [['deliveries', 'extra'], SW, /too many arguments for 'deliveries'/],
    [['deliveries', '--source', 'Stripe'], SW, /--source <name>' argument 'Stripe' is invalid. Expected a source name/],
    // Only allowed characters, but not a name: the message says which rule it breaks.
    [['deliveries', '--source', '_x'], SW, /argument '_x' is invalid. Expected a source name: .*starting with a letter or digit/],
    [['deliveries', '--source', 'a'.repeat(64)], SW, /Expected a source name: 1 to 63 /],
    [['deliveries', 'show', 'default'], SW, /missing required argument 'id'/],
    [['deliveries', 'show', 'default', 'x'.repeat(3000)], SW, /<id>: at most 1024 bytes, got 3000/],
    [
      ['sign', 'default'],
      { ...SW, WEBHOOK_MAX_AGE: 'x', CORS_ORIGINS: '*' },
      /WEBHOOK_MAX_AGE: must be a whole number[\s\S]*CORS_ORIGINS: "\*" contains a wildcard/,
    ],
  ])('%j exits 2 with a message and a --help hint', async (args, env, message) => {
    const r = await cli(args, env, tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hookwarden: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('--help');
    expect(r.stdout).toBe('');
  });

  it("verify names the scheme a captured request was signed for when it lacks the source's signature header", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'h.txt'), 'x-github-event: ping\nx-hub-signature-256: sha256=00\n');
    writeFileSync(join(dir, 'b.bin'), '{}');
    const r = await cli(['verify', 'default', '--headers', 'h.txt', '--body', 'b.bin'], SW, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      "invalid: signature_invalid: missing webhook-signature; the request carries x-hub-signature-256, as github signs: is the source's scheme github?\n",
    );
  });

  it('names an invalid line of a headers file, exit 2', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'h.txt'), 'POST /webhooks/default HTTP/1.1\nwebhook-id: msg_1\nthis is not a header\n');
    writeFileSync(join(dir, 'b.bin'), '{}');
    const r = await cli(['verify', 'default', '--headers', 'h.txt', '--body', 'b.bin'], SW, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/h\.txt line 3: expected "Name: value"/);
  });

  it('never echoes a refused secret', async () => {
    const r = await cli(['sign', 'default', '--secret-env', 'BAD'], { BAD: 'whsec_!!not-base64!!' }, tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('not-base64');
  });

  it('send refuses a --url with credentials (which fetch cannot send) with exit 2, without echoing them', async () => {
    const r = await cli(['send', 'default', '--url', 'http://user:hunter2@127.0.0.1:9'], SW, tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hookwarden: --url: a URL with user:password@ cannot be sent/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('exits 1 naming the URL when nothing answers', async () => {
    // A port that was free a moment ago (fetch refuses low "bad" ports before connecting, which would test something else).
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const r = await cli(['send', 'default', '--url', `http://127.0.0.1:${port}`], SW, tempDir());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hookwarden: cannot reach http://127.0.0.1:${port}/webhooks/default: connect ECONNREFUSED`);
  });

  it('exits 1 when the data directory has no store yet', async () => {
    const dir = tempDir();
    const r = await cli(['deliveries'], { ...SW, HOOKWARDEN_DATA_DIR: join(dir, 'nothing-here') }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no local store in \S+nothing-here yet: npm start creates it/);
  });
});

describe('sign → verify round trip per scheme', () => {
  const HMAC = {
    WEBHOOK_HMAC_HEADER: 'x-signature',
    WEBHOOK_HMAC_PREFIX: 'sha256=',
    WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-timestamp',
    WEBHOOK_HMAC_TEMPLATE: '{timestamp}.{body}',
  };
  const schemes: Array<[string, string, Record<string, string>]> = [
    ['standard-webhooks', TEST_SECRETS.standardWebhooks, {}],
    ['github', TEST_SECRETS.github, {}],
    ['stripe', TEST_SECRETS.stripe, {}],
    ['slack', TEST_SECRETS.slack, {}],
    ['shopify', TEST_SECRETS.shopify, {}],
    ['hmac', TEST_SECRETS.hmac, HMAC],
  ];

  // One at a time: six concurrent CLI round trips (three processes each) starve a 2-core machine.
  it.each(schemes)('%s: a signed capture verifies; one flipped body byte does not', async (scheme, secret, extra) => {
    const env = { WEBHOOK_SCHEME: scheme, WEBHOOK_SECRET: secret, ...extra };
    const dir = tempDir();
    const body = JSON.stringify({ id: 'evt_cli_1', type: 'cli.test', event_id: 'EvCLI1' });
    writeFileSync(join(dir, 'body.json'), body);
    const signed = await cli(['sign', 'default', '--file', 'body.json', '--id', 'msg_cli_rt'], env, dir);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/^([A-Za-z0-9-]+: \S+\n)+$/);
    writeFileSync(join(dir, 'headers.txt'), `POST /webhooks/default HTTP/1.1\n# captured by hand\n\n${signed.stdout}`);
    const ok = await cli(['verify', 'default', '--headers', 'headers.txt', '--body', 'body.json'], env, dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^valid: id=\S+ event=\S+\n$/);

    const flipped = Buffer.from(body);
    const at = flipped.length - 3;
    flipped.writeUInt8(flipped.readUInt8(at) ^ 0x01, at);
    writeFileSync(join(dir, 'body.json'), flipped);
    const bad = await cli(['verify', 'default', '--headers', 'headers.txt', '--body', 'body.json'], env, dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^invalid: signature_invalid: /);
    expect(ok.stdout + ok.stderr + bad.stdout + bad.stderr).not.toContain(secret);
  });

  it('reports a stale capture as timestamp_out_of_range, valid again with --now; any rotated secret verifies', async () => {
    const dir = tempDir();
    const signed = await cli(['sign', 'default', '--data', '{"type":"old"}', '--id', 'msg_old', '--timestamp', '1700000000'], SW, dir);
    expect(signed.code).toBe(0);
    // The JSON form of a capture, with a name in another case and a one-element array.
    const captured = Object.fromEntries(
      signed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
    writeFileSync(
      join(dir, 'h.json'),
      JSON.stringify({ ...captured, 'Webhook-Signature': [captured['webhook-signature']], 'webhook-signature': undefined }),
    );
    writeFileSync(join(dir, 'b.bin'), '{"type":"old"}');
    const args = ['verify', 'default', '--headers', 'h.json', '--body', 'b.bin'];
    const stale = await cli(args, SW, dir);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/^invalid: timestamp_out_of_range: /);
    const then = await cli(
      [...args, '--now', '1700000100', '--secret-env', 'ROTATING'],
      { ...SW, ROTATING: `${TEST_SECRETS.standardWebhooksSecond},${TEST_SECRETS.standardWebhooks}` },
      dir,
    );
    expect(then.stdout).toBe('valid: id=msg_old event=old\n');
    expect(then.code).toBe(0);
  });
});

describe('verify with the key document npm start keeps', () => {
  // The server accepts every key of the document not past its notAfter: after a rotation the previous keys, for the
  // overlap. verify checked the current key alone, so a capture the server had accepted (202) was "invalid".
  it('accepts what the server accepts: the current key and a previous one in its overlap, not one past its notAfter', async () => {
    const dataDir = tempDir();
    const dir = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const expired = `whsec_${randomBytes(24).toString('base64')}`;
    mkdirSync(join(dataDir, 'keys'));
    writeFileSync(
      join(dataDir, 'keys', 'default.json'),
      JSON.stringify({
        keys: [
          { id: 'k-current', secret: TEST_SECRETS.standardWebhooksSecond, createdAt: now },
          { id: 'k-previous', secret: TEST_SECRETS.standardWebhooks, createdAt: now - 3600, notAfter: now + 3600 },
          { id: 'k-expired', secret: expired, createdAt: now - 7200, notAfter: now - 60 },
        ],
      }),
      { mode: 0o600 },
    );
    writeFileSync(join(dir, 'b.json'), '{"type":"rotated"}');
    const env = { HOOKWARDEN_DATA_DIR: dataDir, PREVIOUS: TEST_SECRETS.standardWebhooks, EXPIRED: expired };
    const verifyWith = async (secretEnv?: string) => {
      const signed = await cli(
        ['sign', 'default', '--file', 'b.json', '--id', 'msg_rotated', ...(secretEnv ? ['--secret-env', secretEnv] : [])],
        env,
        dir,
      );
      expect(signed.code).toBe(0);
      writeFileSync(join(dir, 'h.txt'), signed.stdout);
      return cli(['verify', 'default', '--headers', 'h.txt', '--body', 'b.json', '--json'], env, dir);
    };
    const previous = await verifyWith('PREVIOUS');
    expect(JSON.parse(previous.stdout)).toMatchObject({ valid: true, deliveryId: 'msg_rotated' });
    expect(previous.code).toBe(0);
    const current = await verifyWith();
    expect(JSON.parse(current.stdout)).toMatchObject({ valid: true, secrets: `the keys in ${join(dataDir, 'keys', 'default.json')}` });
    const past = await verifyWith('EXPIRED');
    expect(JSON.parse(past.stdout)).toMatchObject({ valid: false, code: 'signature_invalid' });
    expect(past.code).toBe(1);
  });
});

describe('npm start with no secret configured', () => {
  const dataDir = tempDir();
  let server: ChildProcess;
  let printed = '';

  beforeAll(async () => {
    // The real script, in its own process group: npm does not pass SIGTERM on to tsx and the server.
    server = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: '0',
        HOOKWARDEN_DATA_DIR: dataDir,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stderr?.on('data', (d: Buffer) => (printed += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not start:\n${printed}`)), 30_000);
      server.stdout?.on('data', (d: Buffer) => {
        printed += d.toString();
        if (printed.includes('Press Ctrl+C')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });

  afterAll(async () => {
    if (server.pid === undefined || server.exitCode !== null) return;
    process.kill(-server.pid, 'SIGTERM');
    if ((await exitOf(server, 10_000)) === null) process.kill(-server.pid, 'SIGKILL');
  });

  it('prints a generated development secret, keeps it private, and send signs with it', async () => {
    const secret = /generated a development secret[^\n]*\n\s+(whsec_\S+)/.exec(printed)?.[1];
    expect(secret).toBeDefined();
    const saved = join(dataDir, 'dev-secrets.json');
    expect(JSON.parse(readFileSync(saved, 'utf8'))).toEqual({ 'default:standard-webhooks': secret });
    expect(statSync(saved).mode & 0o077).toBe(0);
    const sent = await cli(['send', 'default', '--data', '{"type":"dev.secret"}'], { HOOKWARDEN_DATA_DIR: dataDir }, tempDir());
    expect(sent.stdout).toMatch(/^HTTP 202 /);
    expect(sent.code).toBe(0);
  });
});

describe('send and deliveries against a running local server', () => {
  const dataDir = tempDir();
  const cwd = tempDir();
  const env = { ...SW, HOOKWARDEN_DATA_DIR: dataDir };
  let server: RunningServer;
  let url = '';

  beforeAll(async () => {
    server = await startServer(env, cwd);
    url = /^Hookwarden is listening on (http:\/\/\S+)$/m.exec(server.output())?.[1] ?? '';
  });

  afterAll(() => {
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
  });

  it('sends a signed delivery (202), then the same id again (200 duplicate), to the URL of the banner', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const args = ['send', 'default', '--id', 'msg_cli_1', '--data', '{"type":"cli.sent"}', '--url', url];
    const first = await cli(args, env, cwd);
    expect(first.stdout).toMatch(/^HTTP 202 Accepted\n.*msg_cli_1/);
    expect(first.code).toBe(0);
    const again = await cli(args, env, cwd);
    expect(again.stdout).toMatch(/^HTTP 200 OK\n.*"duplicate"/);
    expect(again.code).toBe(0);
  });

  it('finds the running server through server.json: a binary body, a wrong secret (401, exit 1), a curl command', async () => {
    const bin = join(cwd, 'body.bin');
    writeFileSync(bin, Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const binary = await cli(['send', 'default', '--id', 'msg_bin', '--file', 'body.bin'], env, cwd);
    expect(binary.stdout).toMatch(/^HTTP 202/);
    const wrong = await cli(['send', 'default', '--secret-env', 'WRONG'], { ...env, WRONG: TEST_SECRETS.standardWebhooksSecond }, cwd);
    expect(wrong.stdout).toMatch(/^HTTP 401 [\s\S]*signature_invalid/);
    expect(wrong.code).toBe(1);
    const curl = await cli(['sign', 'default', '--curl'], env, cwd);
    expect(curl.stdout).toContain(`curl -i -X POST '${url}/webhooks/default' -H 'content-type: application/json' -H 'webhook-id: msg_`);
  });

  it('lists through the server while it runs, stops cleanly on SIGTERM, then reads the data directory directly', async () => {
    const live = await cli(['deliveries'], env, cwd);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT\S+Z {2}default {2}msg_bin {2}- {2}4 B {2}stored\n\S+ {2}default {2}msg_cli_1 {2}cli\.sent {2}19 B {2}stored\n$/,
    );

    // Without server.json the store's lock is still held: a clear refusal, not a crash.
    const info = join(dataDir, 'server.json');
    renameSync(info, `${info}.away`);
    const locked = await cli(['deliveries'], env, cwd);
    renameSync(`${info}.away`, info);
    expect(locked.stderr).toMatch(/is in use by another process/);
    expect(locked.code).toBe(1);

    server.process.kill('SIGTERM');
    expect(await exitOf(server.process)).toBe(0);
    expect(existsSync(info)).toBe(false);

    const stored = await cli(['deliveries', '--json', '--source', 'default', '--limit', '1'], env, cwd);
    expect(stored.code).toBe(0);
    expect(JSON.parse(stored.stdout)).toEqual([expect.objectContaining({ source: 'default', id: 'msg_bin', size: 4, status: 'stored' })]);
    const shown = await cli(['deliveries', 'show', 'default', 'msg_cli_1'], env, cwd);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^\S+ {2}default {2}msg_cli_1 {2}cli\.sent /);
    expect(shown.stdout).toContain('webhook-id: msg_cli_1\n');
    const body = await cli(['deliveries', 'show', 'default', 'msg_cli_1', '--body'], env, cwd);
    expect(body.stdout).toBe('{"type":"cli.sent"}');
    expect(body.stderr).toContain('webhook-id: msg_cli_1\n');
    const missing = await cli(['deliveries', 'show', 'default', 'msg_nope'], env, cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no stored delivery "msg_nope" for source "default"/);
  });

  it('refuses a source (--source, show) neither configured nor stored (a typo), yet lists and shows what a removed source stored', async () => {
    const typo = await cli(['deliveries', '--source', 'defualt'], env, cwd);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^hookwarden: unknown source "defualt" \(configured: default\)/);
    expect(typo.stdout).toBe('');
    const typoJson = await cli(['deliveries', '--json', '--source', 'defualt'], env, cwd);
    expect(typoJson.code).toBe(2);
    expect(typoJson.stdout).toBe('');
    // show too: "no stored delivery" (exit 1) read as if the delivery had never arrived.
    for (const source of ['defualt', 'Default']) {
      const shown = await cli(['deliveries', 'show', source, 'msg_cli_1'], env, cwd);
      expect(shown.code).toBe(2);
      expect(shown.stderr).toMatch(new RegExp(`^hookwarden: unknown source "${source}" \\(configured: default\\)`));
      expect(shown.stdout).toBe('');
    }

    const renamed = { ...env, HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'billing', secretEnv: 'WEBHOOK_SECRET' }] }) };
    const removed = await cli(['deliveries', '--source', 'default'], renamed, cwd);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/ {2}default {2}msg_bin {2}/);
    expect((await cli(['deliveries', 'show', 'default', 'msg_bin'], renamed, cwd)).code).toBe(0);
    expect((await cli(['deliveries', 'show', 'default', 'msg_nope'], renamed, cwd)).code).toBe(1);
    const empty = await cli(['deliveries', '--source', 'billing'], renamed, cwd);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('no deliveries stored for "billing"\n');
  });
});
