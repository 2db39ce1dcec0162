import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { ROOT } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const CLI = join(ROOT, 'bin', 'hookwarden-cli.mjs');

/** A long-running CLI command (tail, listen) as a separate process. */
interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Resolves when standard error matches. */
  stderrHas(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when standard output has `count` lines. */
  lines(count: number, timeoutMs?: number): Promise<string[]>;
}

const startCli = (args: string[], env: Record<string, string>): Running => {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: emptyDir(),
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const lines = () => out.split('\n').filter(Boolean);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stderrHas: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(err)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stderr never matched ${pattern} in ${timeoutMs} ms:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    lines: (count, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (lines().length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(lines());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${lines().length} of ${count} lines after ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
};

describe('hookwarden listen and tail against the real local server (dynalite)', () => {
  const dataDir = emptyDir();
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' };
  let local: LocalHookwarden;
  let receiver: Receiver;
  /** The sockets of open `GET /events` requests, to cut them mid-stream. */
  const streams = new Set<Socket>();
  /** How many of the next `GET /deliveries/{source}/{id}` reads lose their connection before an answer. */
  let dropReads = 0;
  let n = 0;
  const running: Running[] = [];

  const deliver = async (body: Buffer, source = 'default'): Promise<string> => {
    const scheme = local.config.sources.get(source)?.scheme;
    if (!scheme) throw new Error(`no source ${source}`);
    n += 1;
    const id = `msg_listen_${Date.now()}_${n}`;
    const res = await fetch(`${local.url}/webhooks/${source}`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'application/octet-stream', ...scheme.sign(TEST_SECRETS.standardWebhooks, { body, id }) },
    });
    expect(res.status).toBe(202);
    return id;
  };
  /** Starts a command and waits until it says its event stream is open (deliveries stored from then on are its to show). */
  const follow = async (args: string[]): Promise<Running> => {
    const cmd = startCli(args, { HOOKWARDEN_DATA_DIR: dataDir });
    running.push(cmd);
    await Promise.race([
      cmd.stderrHas(/^connected to /m),
      cmd.exited.then((code) => Promise.reject(new Error(`exited ${code}: ${cmd.stderr()}`))),
    ]);
    return cmd;
  };
  const interrupt = async (cmd: Running): Promise<number | null> => {
    cmd.child.kill('SIGINT');
    return cmd.exited;
  };

  beforeAll(async () => {
    local = await startLocal({
      env: {
        ...env,
        HOOKWARDEN_CONFIG_JSON: JSON.stringify({
          sources: [
            { name: 'default', secretEnv: 'WEBHOOK_SECRET' },
            { name: 'billing', secretEnv: 'WEBHOOK_SECRET' },
          ],
        }),
      },
      cwd: emptyDir(),
    });
    local.http.server.on('request', (req: IncomingMessage) => {
      if (req.url?.startsWith('/deliveries/') && dropReads > 0) {
        dropReads -= 1;
        req.socket.destroy();
        return;
      }
      if (!req.url?.startsWith('/events')) return;
      streams.add(req.socket);
      req.socket.once('close', () => streams.delete(req.socket));
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const cmd of running) cmd.child.kill('SIGKILL');
    await receiver?.close();
    await local?.close();
  });

  it('listen forwards each delivery byte for byte with its headers, one line per forward with the status; Ctrl+C exits 0', async () => {
    const cmd = await follow(['listen', '--forward-to', receiver.url]);
    const before = receiver.received.length;
    const bodies = [
      Buffer.from('{"type":"invoice.paid","n":1}'),
      Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x0a, 0xc3, 0x28]),
      Buffer.from('caf\u00e9 \u2603', 'utf8'),
    ];
    const ids: string[] = [];
    for (const body of bodies) ids.push(await deliver(body));
    const lines = await cmd.lines(3);
    const got = (await receiver.waitFor(before + 3)).slice(before);
    expect(got.map((r) => r.headers['hookwarden-delivery-id'])).toEqual(ids);
    got.forEach((r, i) => {
      expect(r.body.equals(bodies[i] as Buffer), `body ${i}`).toBe(true);
      expect(r.headers).toMatchObject({ 'hookwarden-source': 'default', 'webhook-id': ids[i], 'content-type': 'application/octet-stream' });
    });
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^\\d{4}-\\S+Z  default  ${ids[i]}  -> 200 OK$`)));
    expect(await interrupt(cmd)).toBe(0);
    expect(cmd.stderr()).toMatch(/stopped\n$/);
  }, 90_000);

  // listen's output is a log of every forward: a receiver URL's ?token=, a token in its path (Slack's incoming webhooks)
  // and a credential in a query parameter with a short name must not be in it, nor in a failure's message.
  it('listen prints a --forward-to without its query values or its path token: banner, forwarded and failed lines, --json', async () => {
    const token = 'tok-orange-lantern-river-7';
    const pathToken = 'QWERTYUIOPASDFGHJKLZXCVB';
    const value = 'qv-amber-harbor-willow-64';
    const route = `/services/T000/B000/${pathToken}?token=${token}&k=${value}`;
    const shown = '/services/T000/B000/[redacted]?token=[redacted]&k=[redacted]';
    const closed = await startReceiver();
    await closed.close();
    const delivered = await follow(['listen', '--forward-to', `${receiver.url}${route}`]);
    const failing = await follow(['listen', '--forward-to', `${closed.url}${route}`, '--json']);
    const id = await deliver(Buffer.from('{"n":"token in the url"}'));
    const [line] = await delivered.lines(1);
    const [failed] = await failing.lines(1);
    expect(line).toMatch(new RegExp(`  ${id}  -> 200 OK$`));
    expect(JSON.parse(failed as string)).toMatchObject({
      id,
      to: `${closed.url}${shown}`,
      error: `cannot reach ${closed.url}${shown}: ECONNREFUSED`,
    });
    expect(delivered.stderr()).toContain(`to ${receiver.url}${shown};`);
    expect(await interrupt(delivered)).toBe(0);
    expect(await interrupt(failing)).toBe(0);
    const printed = [delivered, failing].map((cmd) => cmd.stdout() + cmd.stderr()).join('\n');
    for (const secret of [token, pathToken, value])
      for (let i = 0; i + 12 <= secret.length; i += 1) expect(printed).not.toContain(secret.slice(i, i + 12));
  }, 90_000);

  it('listen resumes after its connection is cut mid-stream, under concurrent deliveries: every delivery forwarded exactly once, in order', async () => {
    const cmd = await follow(['listen', '--forward-to', receiver.url, '--json']);
    const before = receiver.received.length;
    const sent: string[] = [];
    const wave = async (count: number, tag: string) => {
      for (const id of await Promise.all(Array.from({ length: count }, (_, i) => deliver(Buffer.from(JSON.stringify({ tag, i }))))))
        sent.push(id);
    };
    await wave(10, 'w1');
    await receiver.waitFor(before + 3);
    // Cut the stream while more deliveries are being stored, three times.
    for (let cut = 0; cut < 3; cut++) {
      const storing = wave(8, `w${cut + 2}`);
      for (const socket of streams) socket.destroy();
      await storing;
      await cmd.stderrHas(new RegExp(`(?:reconnected[\\s\\S]*?){${cut + 1}}`));
    }
    await wave(5, 'last');
    const got = (await receiver.waitFor(before + sent.length, 60_000)).slice(before);
    // Give a repeat every chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const forwarded = receiver.received.slice(before).map((r) => r.headers['hookwarden-delivery-id'] as string);
    expect(forwarded).toHaveLength(sent.length);
    expect(new Set(forwarded)).toEqual(new Set(sent));
    expect(got.length).toBe(sent.length);
    const printed = (await cmd.lines(sent.length)).map((line) => JSON.parse(line) as { id: string; status: number });
    expect(printed.map((p) => p.id)).toEqual(forwarded);
    expect(printed.every((p) => p.status === 200)).toBe(true);
    expect(cmd.stderr()).toMatch(/dropped[\s\S]*reconnected to the local server at .* \(resuming after the last delivery\)/);
    expect(await interrupt(cmd)).toBe(0);
  }, 120_000);

  // Before: a read whose connection dropped (a network blip, a proxy restarting, no answer in 30 s) was a failed
  // forward, reported and passed by: the stream moved on and the delivery was never forwarded.
  it('listen reads a delivery again when the connection drops while reading it: forwarded once, none skipped', async () => {
    const cmd = await follow(['listen', '--forward-to', receiver.url, '--json']);
    const before = receiver.received.length;
    dropReads = 1;
    const first = await deliver(Buffer.from('{"type":"a"}'));
    const second = await deliver(Buffer.from('{"type":"b"}'));
    const printed = (await cmd.lines(2)).map((line) => JSON.parse(line) as { id: string; status?: number; error?: string });
    expect(dropReads).toBe(0);
    expect(printed).toEqual([expect.objectContaining({ id: first, status: 200 }), expect.objectContaining({ id: second, status: 200 })]);
    expect(receiver.received.slice(before).map((r) => r.headers['hookwarden-delivery-id'])).toEqual([first, second]);
    expect(cmd.stderr()).toMatch(
      new RegExp(`cannot read delivery default/${first}: cannot reach the local server at .*; reading it again in \\d+ s`),
    );
    expect(await interrupt(cmd)).toBe(0);
  }, 60_000);

  it('tail prints one line per delivery, --source filters, --json is one object per line; Ctrl+C exits 0', async () => {
    const all = await follow(['tail']);
    const billing = await follow(['tail', '--source', 'billing', '--json']);
    const a = await deliver(Buffer.from('{"type":"order.created"}'));
    const b = await deliver(Buffer.from('{"type":"invoice.paid"}'), 'billing');
    const lines = await all.lines(2);
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\S+Z  default  ${a}  order\\.created  24 B$`));
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\S+Z  billing  ${b}  invoice\\.paid  23 B$`));
    const [only] = await billing.lines(1);
    expect(JSON.parse(only as string)).toEqual({
      source: 'billing',
      id: b,
      receivedAt: expect.stringMatching(/Z$/),
      eventType: 'invoice.paid',
      size: 23,
    });
    expect(await interrupt(all)).toBe(0);
    expect(await interrupt(billing)).toBe(0);
    expect(billing.stdout().trim().split('\n')).toHaveLength(1);
  }, 90_000);

  it('exits 1 with the API error when the token is refused or the source unknown, and 2 for a bad --source', async () => {
    const refused = startCli(['tail', '--token-env', 'HW_TOKEN'], { HOOKWARDEN_DATA_DIR: dataDir, HW_TOKEN: 'hwk_not_a_real_token' });
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/GET \/events on the local server at http:\/\/127\.0\.0\.1:\d+: 401 token_invalid/);
    const bad = startCli(['listen', '--forward-to', receiver.url, '--source', 'Not A Source'], { HOOKWARDEN_DATA_DIR: dataDir });
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('is not a source name');
    // A name no source has: refused at once, where the stream used to wait in silence for deliveries that never come.
    const typo = startCli(['tail', '--source', 'biling'], { HOOKWARDEN_DATA_DIR: dataDir });
    expect(await typo.exited).toBe(1);
    expect(typo.stderr()).toMatch(
      /GET \/events\?source=biling on the local server at \S+: 404 source_unknown: No source of that name is configured/,
    );
  }, 60_000);
});

describe('hookwarden listen when its own reads are rate limited (HOOKWARDEN_API_RATE_LIMIT)', () => {
  const dataDir = emptyDir();
  // Three reads per token in any 2 s: a burst of deliveries outruns it at once.
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir, PORT: '0', HOOKWARDEN_API_RATE_LIMIT: '3/2s' };
  let local: LocalHookwarden;
  let receiver: Receiver;
  let cmd: Running | undefined;

  beforeAll(async () => {
    local = await startLocal({ env, cwd: emptyDir() });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    cmd?.child.kill('SIGKILL');
    await receiver?.close();
    await local?.close();
  });

  it('waits out a 429 on reading a delivery and forwards it, instead of passing it by: every delivery once, in order', async () => {
    cmd = startCli(['listen', '--forward-to', receiver.url, '--json'], { HOOKWARDEN_DATA_DIR: dataDir });
    await cmd.stderrHas(/^connected to /m);
    const scheme = local.config.sources.get('default')?.scheme;
    if (!scheme) throw new Error('no default source');
    const ids = Array.from({ length: 6 }, (_, i) => `msg_limited_${Date.now()}_${i}`);
    for (const id of ids) {
      const body = Buffer.from(JSON.stringify({ id }));
      const res = await fetch(`${local.url}/webhooks/default`, {
        method: 'POST',
        body: new Uint8Array(body),
        headers: { 'content-type': 'application/json', ...scheme.sign(TEST_SECRETS.standardWebhooks, { body, id }) },
      });
      expect(res.status).toBe(202);
    }
    const printed = (await cmd.lines(ids.length, 60_000)).map(
      (line) => JSON.parse(line) as { id: string; status?: number; error?: string },
    );
    expect(printed.filter((p) => p.error !== undefined)).toEqual([]);
    expect(printed.map((p) => p.id)).toEqual(ids);
    expect(receiver.received.map((r) => r.headers['hookwarden-delivery-id'])).toEqual(ids);
    cmd.child.kill('SIGINT');
    expect(await cmd.exited).toBe(0);
  }, 90_000);
});
