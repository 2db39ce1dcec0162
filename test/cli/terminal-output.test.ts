import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, startServer, type RunningServer } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/** Anything a terminal would act on: C0 (line feed and tab aside where noted), DEL, C1. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** A signed body that would clear the screen, retitle the window and set a colour on a terminal. */
const HOSTILE_BODY = '{"title":"\u001b]0;pwned\u0007","clear":"\u001b[2J","csi":"\u009b31m","del":"\u007f"}';
/** An unsigned header kept with the delivery: U+009B is a one-character CSI, and HTTP lets it through as the byte 0x9b (ESC it refuses). */
const HOSTILE_EVENT = 'push\u009b2J';

describe('deliveries print what came from a request without letting it drive the terminal', () => {
  const dataDir = emptyDir();
  const cwd = emptyDir();
  const env = { WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: TEST_SECRETS.github, HOOKWARDEN_DATA_DIR: dataDir };
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(env, cwd);
    writeFileSync(join(cwd, 'hostile.json'), HOSTILE_BODY);
    const sent = await cli(
      ['send', 'default', '--id', 'hostile-1', '--file', 'hostile.json', '-H', `x-github-event: ${HOSTILE_EVENT}`],
      env,
      cwd,
    );
    expect(sent.stdout).toMatch(/^HTTP 202/);
    writeFileSync(join(cwd, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x9b, 0x41, 0x0a]));
    expect((await cli(['send', 'default', '--id', 'binary-1', '--file', 'binary.bin'], env, cwd)).stdout).toMatch(/^HTTP 202/);
  });

  afterAll(() => {
    server.process.kill('SIGKILL');
  });

  it('escapes C0, DEL and C1 in the list and in show, as \\xHH', async () => {
    for (const args of [['deliveries'], ['deliveries', 'show', 'default', 'hostile-1']]) {
      const r = await cli(args, env, cwd);
      expect(r.code).toBe(0);
      expect(r.stdout.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
    }
    expect((await cli(['deliveries', 'show', 'default', 'hostile-1'], env, cwd)).stdout).toContain('x-github-event: push\\x9b2J\n');
  });

  it('show --body writes exactly the stored bytes to a pipe, and the summary to stderr', async () => {
    for (const [id, file] of [
      ['hostile-1', 'hostile.json'],
      ['binary-1', 'binary.bin'],
    ] as const) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'hookwarden-cli.mjs'), 'deliveries', 'show', 'default', id, '--body'], {
        cwd,
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      expect(r.status).toBe(0);
      expect(Buffer.compare(r.stdout, spawnSync('cat', [join(cwd, file)]).stdout)).toBe(0);
      expect(r.stderr.toString()).toContain(`default  ${id}  `);
      expect(r.stderr.toString().replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
    }
  });

  it('show --body on a terminal shows the body with its control characters escaped', () => {
    // `script` gives the command a pseudo-terminal, as an interactive shell would.
    const command = [process.execPath, join(ROOT, 'bin', 'hookwarden-cli.mjs'), 'deliveries', 'show', 'default', 'hostile-1', '--body']
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...env },
      encoding: 'latin1',
    });
    expect(r.status).toBe(0);
    const shown = r.stdout.replaceAll('\r\n', '\n');
    expect(shown).toContain('"title":"\\x1b]0;pwned\\x07"');
    expect(shown).toContain('"csi":"\\x9b31m"');
    expect(shown.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
  });

  it('show --json gives the same delivery as JSON, DEL and C1 escaped as \\u00XX', async () => {
    const r = await cli(['deliveries', 'show', 'default', 'hostile-1', '--body', '--json'], env, cwd);
    expect(r.code).toBe(0);
    expect(r.stdout.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
    const shown = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(shown.id).toMatch(/^sig_[0-9a-f]{32}$/);
    expect(shown).toMatchObject({
      source: 'default',
      providerId: 'hostile-1',
      body: HOSTILE_BODY,
      size: Buffer.byteLength(HOSTILE_BODY),
    });
    const binary = JSON.parse((await cli(['deliveries', 'show', 'default', 'binary-1', '--body', '--json'], env, cwd)).stdout) as Record<
      string,
      unknown
    >;
    expect(binary).toMatchObject({
      body: Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x9b, 0x41, 0x0a]).toString('base64'),
      bodyEncoding: 'base64',
    });
  });
});

describe('error messages quote what was typed without letting it drive the terminal', () => {
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };
  const CLEAR = '\u001b[2J\u001b]0;pwned\u0007';

  // Commander's own refusal, a UsageError of a command, and a system error naming a path.
  it.each([[['sign', 'default', '--timestamp', `1${CLEAR}`]], [['sign', `x${CLEAR}`]], [['sign', 'default', '--file', `no-such${CLEAR}`]]])(
    '%j',
    async (args) => {
      const r = await cli(args, env);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('\\x1b[2J\\x1b]0;pwned\\x07');
      expect(r.stderr.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
    },
  );
});
