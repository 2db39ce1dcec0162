import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startServer, type RunningServer } from '../helpers/cli.js';
import { emptyDir } from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

describe('send says which secret it signs with, and refuses what it can tell will fail', () => {
  const dataDir = emptyDir();
  const cwd = emptyDir();
  const serverEnv = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir };
  let server: RunningServer;

  beforeAll(async () => {
    // A development secret left by an earlier `npm start` without WEBHOOK_SECRET.
    writeFileSync(join(dataDir, 'dev-secrets.json'), JSON.stringify({ 'default:standard-webhooks': TEST_SECRETS.standardWebhooksSecond }), {
      mode: 0o600,
    });
    server = await startServer(serverEnv, cwd);
  });
  afterAll(() => {
    server.process.kill('SIGKILL');
  });

  it('refuses to sign with the stale development secret when the server reads WEBHOOK_SECRET (exit 2, naming both)', async () => {
    const r = await cli(['send', 'default'], { HOOKWARDEN_DATA_DIR: dataDir }, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /verifies "default" with WEBHOOK_SECRET from its environment, but this shell would sign with the development secret in \S+dev-secrets\.json: export WEBHOOK_SECRET here too, or pass --secret-env NAME/,
    );
    expect(r.stdout).toBe('');
  });

  it("server.json describes the server's sources by name, scheme and secret origin, never a secret", () => {
    const text = readFileSync(join(dataDir, 'server.json'), 'utf8');
    expect(JSON.parse(text).sources).toEqual([{ name: 'default', scheme: 'standard-webhooks', secret: 'env:WEBHOOK_SECRET' }]);
    expect(text).not.toContain(TEST_SECRETS.standardWebhooks.slice(6));
  });

  it('refuses a scheme the server does not use for the source', async () => {
    const r = await cli(
      ['send', 'default'],
      { HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: TEST_SECRETS.github },
      cwd,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/verifies "default" as standard-webhooks, but this shell's configuration says github/);
  });

  // Without a secret for what it names, the shell was told to run npm start once with the same data
  // directory: the server it was already running.
  it.each([
    [
      'a source the server does not have',
      { HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'orders', scheme: 'github' }] }) },
      'orders',
      /^hookwarden: the server at \S+ has no source "orders" \(its sources: default\)/,
    ],
    [
      'another scheme',
      { WEBHOOK_SCHEME: 'github' },
      'default',
      /verifies "default" as standard-webhooks, but this shell's configuration says github/,
    ],
  ])('refuses %s before looking for a secret this shell does not have (exit 2)', async (_, env, source, message) => {
    const r = await cli(['send', source], { HOOKWARDEN_DATA_DIR: dataDir, ...env }, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('no secret');
    expect(r.stdout).toBe('');
  });

  it('names the variable it signed with', async () => {
    const r = await cli(['send', 'default'], serverEnv, cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('signed with WEBHOOK_SECRET\n');
    expect(r.stdout).toMatch(/^HTTP 202 Accepted\n/);
  });

  it('a body over the limit, which the server refuses without reading, is said to be too large, not the server unreachable', async () => {
    // Far more than loopback's socket buffers hold: the server closes the connection while fetch is still writing.
    writeFileSync(join(cwd, 'huge.bin'), Buffer.alloc(32 * 1024 * 1024, 0x61));
    const r = await cli(['send', 'default', '--file', 'huge.bin'], serverEnv, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('is npm start running');
    // Which one comes depends on the timing of the close: either way, it names the size.
    expect(`${r.stdout}${r.stderr}`).toMatch(/33554432 bytes, more than source "default" accepts \(maxBodyBytes 1048576\)|^HTTP 413/m);
  });

  it("prints a development server's reason for a 401, and what it signed with", async () => {
    const r = await cli(['send', 'default', '--secret-env', 'OTHER'], { ...serverEnv, OTHER: TEST_SECRETS.standardWebhooksSecond }, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^HTTP 401 Unauthorized\n/);
    expect(r.stderr).toBe('signed with OTHER (--secret-env)\nreason: no signature matches any secret\n');
    expect(r.stderr).not.toContain(TEST_SECRETS.standardWebhooksSecond);
  });

  it('--json prints one object with the status, the secret it signed with, the answer and the reason', async () => {
    const r = await cli(
      ['send', 'default', '--json', '--secret-env', 'OTHER', '--timestamp', '1700000000'],
      { ...serverEnv, OTHER: TEST_SECRETS.standardWebhooks },
      cwd,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      url: expect.stringMatching(/\/webhooks\/default$/),
      status: 401,
      statusText: 'Unauthorized',
      signedWith: 'OTHER (--secret-env)',
      body: {
        error: {
          code: 'timestamp_out_of_range',
          message: expect.any(String),
          requestId: expect.any(String),
          reason: expect.stringMatching(/^timestamp is \d+ s old \(limit 300 s\)$/),
        },
      },
      reason: expect.stringMatching(/^timestamp is \d+ s old/),
    });
  });
});

describe('send to a server that generated its secret', () => {
  const dataDir = emptyDir();
  const cwd = emptyDir();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ HOOKWARDEN_DATA_DIR: dataDir }, cwd);
  });
  afterAll(() => {
    server.process.kill('SIGKILL');
  });

  it('names the key document the server verifies with (as its banner does), not dev-secrets.json, when this shell has WEBHOOK_SECRET', async () => {
    const r = await cli(['send', 'default'], { HOOKWARDEN_DATA_DIR: dataDir, WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks }, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `verifies "default" with the keys in ${join(dataDir, 'keys', 'default.json')}, but this shell would sign with WEBHOOK_SECRET: unset WEBHOOK_SECRET here, or restart npm start with it set`,
    );
    expect(server.output()).toContain(`secret: ${join(dataDir, 'keys', 'default.json')}`);
  });
});

describe('send and a redirect', () => {
  let receiver: Receiver;
  let redirector: Server;
  let redirectorUrl = '';
  beforeAll(async () => {
    receiver = await startReceiver();
    redirector = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: `${receiver.url}/webhooks/default` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await receiver?.close();
    await new Promise((resolve) => redirector?.close(resolve));
  });

  // fetch followed a 307 with the same method and body: the signed delivery went to whatever host the server named.
  it('does not follow it: prints the 3xx and where it points, exit 1, nothing sent there', async () => {
    const r = await cli(['send', 'default', '--url', redirectorUrl], { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks }, emptyDir());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^HTTP 307/m);
    expect(r.stderr).toContain(`not followed: the answer redirects to ${receiver.url}/webhooks/default`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received).toHaveLength(0);
  });
});

// docs/deploy.md ("Point a provider at it", Test): how to send the same delivery twice depends on where the scheme keeps its id.
describe('send twice: a Stripe delivery is the same when its body is (its id is in the body)', () => {
  const dataDir = emptyDir();
  const cwd = emptyDir();
  const env = { STRIPE_SECRET: TEST_SECRETS.stripe, HOOKWARDEN_DATA_DIR: dataDir };
  let server: RunningServer;

  beforeAll(async () => {
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'stripe', scheme: 'stripe', secretEnv: 'STRIPE_SECRET' }] }),
    );
    server = await startServer(env, cwd);
  });
  afterAll(() => {
    server.process.kill('SIGKILL');
  });

  it('answers 200 duplicate for the same body again, and 202 for a new sample body whatever --id says', async () => {
    const body = JSON.stringify({ id: 'evt_docs_deploy_same_body', object: 'event', type: 'hookwarden.test' });
    const first = await cli(['send', 'stripe', '--data', body], env, cwd);
    const again = await cli(['send', 'stripe', '--data', body], env, cwd);
    expect([first.stdout, again.stdout].map((out) => out.split('\n')[0])).toEqual(['HTTP 202 Accepted', 'HTTP 200 OK']);
    expect(again.stdout).toContain('"duplicate"');
    const samples = [
      await cli(['send', 'stripe', '--id', 'same-id'], env, cwd),
      await cli(['send', 'stripe', '--id', 'same-id'], env, cwd),
    ];
    expect(samples.map((r) => r.stdout.split('\n')[0])).toEqual(['HTTP 202 Accepted', 'HTTP 202 Accepted']);
  });
});

/** A relay's token in the `--url` path (Slack's `/services/T…/B…/<token>`), no secret-like shape: upper case only. */
const PATH_TOKEN = 'QWERTYUIOPASDFGHJKLZXCVB';
/** A credential in a query parameter named like nothing in particular (`?k=`): no credential-like name to catch it by. */
const QUERY_VALUE = 'qv-amber-harbor-willow-64';
/** What `send` may never print: either marker, whole or any 12 characters of it. */
const expectNoCredential = (text: string): void => {
  for (const marker of [PATH_TOKEN, QUERY_VALUE])
    for (let i = 0; i + 12 <= marker.length; i += 1) expect(text).not.toContain(marker.slice(i, i + 12));
};

/** A node:http server on 127.0.0.1 at a free port, and its base URL. */
const listening = async (handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> => {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};
const closing = (server: Server | undefined): Promise<unknown> =>
  new Promise((resolve) => {
    server?.closeAllConnections();
    if (server?.listening) server.close(resolve);
    else resolve(undefined);
  });

/** The redirector's answers by case: its Location, and how send must show it. */
const REDIRECTS: Record<string, readonly [string, string]> = {
  'an absolute one naming a token': [
    `https://relay.example.com/hooks/${PATH_TOKEN}?k=${QUERY_VALUE}`,
    'https://relay.example.com/hooks/[redacted]?k=[redacted]',
  ],
  'a relative one echoing the request path': [`/relay/${PATH_TOKEN}/webhooks/default/`, '/relay/[redacted]/webhooks/default/'],
};

// replay and listen showed a receiver URL so; send printed its --url whole in every message and in --json.
describe('send shows its --url as replay and listen show a receiver, and sends to it as given', () => {
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };
  let receiver: Receiver;
  let redirector: Server;
  let redirectorBase = '';
  let resetter: Server;
  let resetterBase = '';
  let closedPort = 0;
  beforeAll(async () => {
    receiver = await startReceiver();
    ({ server: redirector, base: redirectorBase } = await listening((req, res) => {
      req.resume();
      // A receiver that echoes the request's path in its status text, and redirects to where its token is.
      res.writeHead(307, `Moved from ${req.url ?? ''}`, { location: REDIRECTS[String(req.headers['x-redirect'])]?.[0] ?? '/' }).end();
    }));
    // Refuses the body unread, as a server does one over its limit: the connection closes while fetch still writes.
    ({ server: resetter, base: resetterBase } = await listening((req) => req.socket.resetAndDestroy()));
    const closed = await listening(() => undefined);
    closedPort = Number(new URL(closed.base).port);
    await closing(closed.server);
  });
  afterAll(async () => {
    await receiver?.close();
    await closing(redirector);
    await closing(resetter);
  });

  it('an unreachable --url: cannot reach names it with its token as [redacted]', async () => {
    const r = await cli(['send', 'default', '--url', `http://127.0.0.1:${closedPort}/relay/${PATH_TOKEN}`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach http://127.0.0.1:${closedPort}/relay/[redacted]/webhooks/default: `);
    expectNoCredential(r.stderr);
  });

  // Guards the same leak before send runs: the --url parser refuses any query, and quotes the URL as shown.
  it('a --url with a query value is refused without echoing the value (exit 2)', async () => {
    const r = await cli(['send', 'default', '--url', `http://127.0.0.1:${closedPort}/in?k=${QUERY_VALUE}`], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`/in?k=[redacted]`);
    expectNoCredential(r.stderr);
  });

  it('a server that closes the connection mid-body: the message names the --url with its token as [redacted]', async () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 0x61));
    const r = await cli(['send', 'default', '--file', 'big.bin', '--url', `${resetterBase}/relay/${PATH_TOKEN}`], env, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the server at ${resetterBase}/relay/[redacted]/webhooks/default closed the connection while the body was being sent`,
    );
    expectNoCredential(r.stderr);
  });

  it.each(Object.entries(REDIRECTS).map(([name, [, shown]]) => [name, shown]))(
    'a redirect, %s: the Location and the status text show the token as [redacted]',
    async (name, shown) => {
      // The case by name: a -H value is itself left out of what send prints (a receiver may echo it).
      const r = await cli(['send', 'default', '--url', `${redirectorBase}/relay/${PATH_TOKEN}`, '-H', `X-Redirect: ${name}`], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^HTTP 307 Moved from \/relay\/\[redacted\]\/webhooks\/default\n/);
      expect(r.stderr).toContain(`not followed: the answer redirects to ${shown} (send it there with --url)`);
      expectNoCredential(`${r.stdout}${r.stderr}`);
    },
  );

  it('a receiver that echoes a header given with -H (an Authorization) in its status text and Location: [redacted]', async () => {
    const credential = 'hv-copper-meadow-lantern-91';
    const echo = await listening((req, res) => {
      req.resume();
      const given = String(req.headers.authorization);
      res.writeHead(307, `Moved for ${given}`, { location: `https://relay.example.com/next?auth=${given.replace(' ', '+')}` }).end();
    });
    try {
      const r = await cli(['send', 'default', '--url', echo.base, '-H', `Authorization: Bearer ${credential}`], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^HTTP 307 Moved for \[redacted\]\n/);
      expect(r.stderr).toContain('not followed: the answer redirects to https://relay.example.com/next?auth=[redacted]');
      for (let i = 0; i + 12 <= credential.length; i += 1) expect(`${r.stdout}${r.stderr}`).not.toContain(credential.slice(i, i + 12));
    } finally {
      await closing(echo.server);
    }
  });

  it('--json: url shows the token as [redacted]; the request went to the URL as given', async () => {
    const before = receiver.received.length;
    const r = await cli(['send', 'default', '--json', '--url', `${receiver.url}/relay/${PATH_TOKEN}`], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ url: `${receiver.url}/relay/[redacted]/webhooks/default`, status: 200 });
    expectNoCredential(r.stdout);
    const [got] = (await receiver.waitFor(before + 1)).slice(before);
    expect(got?.path).toBe(`/hooks/relay/${PATH_TOKEN}/webhooks/default`);
  });
});
