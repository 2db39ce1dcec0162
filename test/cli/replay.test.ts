import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/program.js';
import type { CliContext } from '../../cli/context.js';
import { HTTP_API_FRONT_DOOR, outputKey } from '../../lib/stack-outputs.js';
import { readDevelopmentToken } from '../../local/dev-token.js';
import { startLocal, type LocalHookwarden } from '../../local/index.js';
import { capture } from '../helpers/capture.js';
import { emptyDir } from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { answerStack } from '../helpers/fake-stack.js';

describe('hookwarden replay against the real local server', () => {
  const dataDir = emptyDir();
  const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_DATA_DIR: dataDir, PORT: '0' };
  const context: CliContext = { env, cwd: emptyDir(), dataDir };
  let local: LocalHookwarden;
  let receiver: Receiver;
  let n = 0;

  const cli = (args: string[], ctx: CliContext = context, aws?: Parameters<typeof run>[2]) =>
    capture(() => run(['node', 'hookwarden', ...args], ctx, aws));

  /** Posts a signed Standard Webhooks delivery with exactly these body bytes; returns its id. */
  const deliver = async (body: Buffer, contentType = 'application/json'): Promise<string> => {
    const source = local.config.sources.get('default');
    if (!source) throw new Error('no default source');
    n += 1;
    const id = `msg_replay_${Date.now()}_${n}`;
    const headers = source.scheme.sign(TEST_SECRETS.standardWebhooks, { body, id });
    const res = await fetch(`${local.url}/webhooks/default`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': contentType, 'user-agent': 'replay-test/1', ...headers },
    });
    expect(res.status).toBe(202);
    return id;
  };

  beforeAll(async () => {
    local = await startLocal({ env, cwd: context.cwd });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await local?.close();
  });

  it('POSTs the original UTF-8 body bytes and kept headers, plus Hookwarden-Source and Hookwarden-Delivery-Id, and prints the status', async () => {
    const body = Buffer.from('{"type":"invoice.paid","note":"caf\u00e9 \u2603","n":1}', 'utf8');
    const id = await deliver(body);
    const before = receiver.received.length;
    const result = await cli(['replay', 'default', id, '--to', receiver.url]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`replayed default/${id} (${body.length} B) to ${receiver.url}: 200 OK\n`);
    const got = receiver.received[before];
    expect(got?.method).toBe('POST');
    expect(got?.path).toBe('/hooks');
    expect(got?.body.equals(body)).toBe(true);
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'replay-test/1',
      'webhook-id': id,
      'hookwarden-source': 'default',
      'hookwarden-delivery-id': id,
    });
    // The signature is not a kept header: a receiver cannot mistake a replay for the provider's delivery.
    expect(got?.headers['webhook-signature']).toBeUndefined();
  });

  it('replays a body that is not UTF-8 byte for byte (the API carries it as base64)', async () => {
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x7b, 0x0a, 0xed, 0xa0, 0x80, 0xf8]);
    const id = await deliver(body, 'application/octet-stream');
    const before = receiver.received.length;
    const result = await cli(['replay', 'default', id, '--to', receiver.url, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      source: 'default',
      id,
      to: receiver.url,
      status: 200,
      statusText: 'OK',
      bytes: body.length,
    });
    const got = receiver.received[before];
    expect(got?.body.equals(body)).toBe(true);
    expect(got?.headers['content-type']).toBe('application/octet-stream');
  });

  it('exits 1 when the receiver answers non-2xx, still printing the status', async () => {
    const id = await deliver(Buffer.from('{"n":"fail"}'));
    receiver.status = 500;
    try {
      const result = await cli(['replay', 'default', id, '--to', receiver.url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/: 500 Internal Server Error\n$/);
    } finally {
      receiver.status = 200;
    }
  });

  it('exits 1 on a redirect, saying it was not followed and where it pointed (text and --json)', async () => {
    const id = await deliver(Buffer.from('{"n":"moved"}'));
    receiver.status = 302;
    receiver.location = 'http://127.0.0.1:9/elsewhere';
    try {
      const before = receiver.received.length;
      const result = await cli(['replay', 'default', id, '--to', receiver.url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(
        `replayed default/${id} (13 B) to ${receiver.url}: 302 Found; not followed: the answer redirects to http://127.0.0.1:9/elsewhere\n`,
      );
      const json = await cli(['replay', 'default', id, '--to', receiver.url, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 302, location: 'http://127.0.0.1:9/elsewhere' });
      expect(receiver.received.length).toBe(before + 2);
    } finally {
      receiver.status = 200;
      delete receiver.location;
    }
  });

  it('exits 1 with the API error for an unknown delivery, sending nothing', async () => {
    const before = receiver.received.length;
    const result = await cli(['replay', 'default', 'msg_nope\u001b[2J', '--to', receiver.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /cannot read delivery default\/msg_nope\\x1b\[2J from the local server at http:\/\/127\.0\.0\.1:\d+: 404 not_found/,
    );
    expect(receiver.received.length).toBe(before);
  });

  it('exits 1 when the receiver cannot be reached, naming it', async () => {
    const id = await deliver(Buffer.from('{"n":"unreachable"}'));
    const closed = await startReceiver();
    await closed.close();
    const result = await cli(['replay', 'default', id, '--to', closed.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach ${closed.url}: ECONNREFUSED`);
  });

  // A receiver URL with a token in its query (a hosted endpoint's ?token=): the command's output lands in terminals and CI logs.
  it('prints a receiver URL without the value of its ?token=, delivered, refused or unreachable (text and --json)', async () => {
    const token = 'tok-orange-lantern-river-7';
    const id = await deliver(Buffer.from('{"n":"token in the url"}'));
    const closed = await startReceiver();
    await closed.close();
    const printed: string[] = [];
    for (const [to, code] of [
      [`${receiver.url}?token=${token}`, 0],
      [`${closed.url}?token=${token}`, 1],
    ] as const)
      for (const json of [[], ['--json']]) {
        const result = await cli(['replay', 'default', id, '--to', to, ...json]);
        expect(result.code).toBe(code);
        printed.push(result.stdout + result.stderr);
      }
    expect(printed[0]).toContain(`to ${receiver.url}?token=[redacted]: 200 OK`);
    expect(printed[2]).toContain(`cannot reach ${closed.url}?token=[redacted]: ECONNREFUSED`);
    for (let i = 0; i + 12 <= token.length; i += 1) expect(printed.join('\n')).not.toContain(token.slice(i, i + 12));
  });

  // Slack-style incoming webhooks carry their token in the path; many receivers take one in a query parameter with a
  // short name. Neither is named like a credential, and neither has a secret's shape (upper case only, words).
  it('prints a receiver URL with a token in its path and in ?k= as [redacted], still naming the host, delivered or unreachable (text and --json)', async () => {
    const pathToken = 'QWERTYUIOPASDFGHJKLZXCVB';
    const value = 'qv-amber-harbor-willow-64';
    const id = await deliver(Buffer.from('{"n":"token in the path"}'));
    const closed = await startReceiver();
    await closed.close();
    const route = `/services/T000/B000/${pathToken}?k=${value}`;
    const printed: string[] = [];
    for (const [to, code] of [
      [`${receiver.url}${route}`, 0],
      [`${closed.url}${route}`, 1],
    ] as const)
      for (const json of [[], ['--json']]) {
        const result = await cli(['replay', 'default', id, '--to', to, ...json]);
        expect(result.code).toBe(code);
        printed.push(result.stdout + result.stderr);
      }
    expect(printed[0]).toContain(`to ${receiver.url}/services/T000/B000/[redacted]?k=[redacted]: 200 OK`);
    expect(JSON.parse(printed[1] as string)).toMatchObject({ to: `${receiver.url}/services/T000/B000/[redacted]?k=[redacted]` });
    expect(printed[2]).toContain(`cannot reach ${closed.url}/services/T000/B000/[redacted]?k=[redacted]: ECONNREFUSED`);
    expect(printed[3]).toContain(`cannot reach ${closed.url}/services/T000/B000/[redacted]?k=[redacted]: ECONNREFUSED`);
    expect(receiver.received.at(-1)?.path).toBe(`/hooks${route}`);
    for (const secret of [pathToken, value])
      for (let i = 0; i + 12 <= secret.length; i += 1) expect(printed.join('\n')).not.toContain(secret.slice(i, i + 12));
  });

  it('says how to start a server when none runs in the data directory', async () => {
    const other = emptyDir();
    const result = await cli(['replay', 'default', 'x', '--to', receiver.url], {
      env: { HOOKWARDEN_DATA_DIR: other },
      cwd: other,
      dataDir: other,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no local server is running with data directory');
    expect(result.stderr).toContain('npm start');
  });

  it.each([
    [['--to', 'ftp://example.com/x'], /Expected an http or https URL/],
    [['--to', 'not a url'], /Expected an http\(s\) URL/],
    // fetch refuses a URL with credentials: every forward would fail ("cannot reach", exit 1; listen would drop them all).
    [['--to', 'http://user:pw@127.0.0.1:2/x'], /Expected a URL without user:password@/],
    [['--to', 'http://127.0.0.1:2/x', '--stack', 'prod'], /--stack needs --token-env NAME/],
    [
      ['--to', 'http://127.0.0.1:2/x', '--stack', 'prod', '--token-env', 'UNSET_TOKEN'],
      /--token-env UNSET_TOKEN: the variable is not set or empty/,
    ],
    [['--to', 'http://127.0.0.1:2/x', '--token-env', 'bad name'], /--token-env takes the name of an environment variable/],
  ])('refuses bad usage with exit 2: %j', async (args, message) => {
    const result = await cli(['replay', 'default', 'x', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('--stack on an HTTP API stack says it serves no deliveries API, for replay, tail and listen alike, before any request', async () => {
    const cfn = mockClient(CloudFormationClient);
    answerStack(cfn, 'hookwarden-cheap', [
      // The URL answers: were it asked, the command would get the local server's answers, not this refusal.
      [outputKey('apiUrl'), `${local.url}/`],
      [outputKey('frontDoor'), HTTP_API_FRONT_DOOR],
      [outputKey('deliveriesTable'), 'hookwarden-cheap-Deliveries'],
    ]);
    const aws = {
      cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
      dynamodb: () => ({}) as DynamoDBClient,
      wafv2: () => ({}) as WAFV2Client,
      secretsManager: () => ({}) as SecretsManagerClient,
    };
    const other = emptyDir();
    const ctx = { env: { HW_TOKEN: readDevelopmentToken(dataDir) as string }, cwd: other, dataDir: other };
    const stack = ['--stack', 'hookwarden-cheap', '--token-env', 'HW_TOKEN'];
    try {
      const before = receiver.received.length;
      for (const args of [
        ['replay', 'default', 'msg_x', '--to', receiver.url, ...stack],
        ['tail', ...stack],
        ['listen', '--forward-to', receiver.url, ...stack],
      ]) {
        const result = await cli(args, ctx, aws);
        expect(result.code, args[0]).toBe(1);
        expect(result.stderr, args[0]).toMatch(
          /stack hookwarden-cheap has frontDoor=http-api: an HTTP API serves no deliveries API .*frontDoor=rest.*DeliveriesTableName/,
        );
      }
      expect(receiver.received.length).toBe(before);
    } finally {
      cfn.restore();
    }
  });

  it('--stack reads the API URL from the stack outputs and the token from --token-env', async () => {
    const cfn = mockClient(CloudFormationClient);
    answerStack(cfn, 'hookwarden-prod', [[outputKey('apiUrl'), `${local.url}/`]]);
    const aws = {
      cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
      dynamodb: () => ({}) as DynamoDBClient,
      wafv2: () => ({}) as WAFV2Client,
      secretsManager: () => ({}) as SecretsManagerClient,
    };
    try {
      const id = await deliver(Buffer.from('{"n":"stack"}'));
      const token = readDevelopmentToken(dataDir) as string;
      const before = receiver.received.length;
      // A data directory with no server in it: only the stack can answer.
      const other = emptyDir();
      const result = await cli(
        ['replay', 'default', id, '--to', receiver.url, '--stack', 'hookwarden-prod', '--token-env', 'HW_TOKEN'],
        { env: { HW_TOKEN: token }, cwd: other, dataDir: other },
        aws,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(receiver.received[before]?.body.toString()).toBe('{"n":"stack"}');
      const wrong = await cli(
        ['replay', 'default', id, '--to', receiver.url, '--stack', 'hookwarden-prod', '--token-env', 'HW_TOKEN'],
        { env: { HW_TOKEN: 'hwk_wrong' }, cwd: other, dataDir: other },
        aws,
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/stack hookwarden-prod: 401 token_invalid/);
    } finally {
      cfn.restore();
    }
  });
});

describe('hookwarden replay by the id hookwarden deliveries lists', () => {
  const dataDir = emptyDir();
  const env = {
    HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'github', scheme: 'github', secretEnv: 'GH_SECRET' }] }),
    GH_SECRET: TEST_SECRETS.github,
    HOOKWARDEN_DATA_DIR: dataDir,
    PORT: '0',
  };
  const context: CliContext = { env, cwd: emptyDir(), dataDir };
  let local: LocalHookwarden;
  let receiver: Receiver;

  beforeAll(async () => {
    local = await startLocal({ env, cwd: context.cwd });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await local?.close();
  });

  // GitHub's X-GitHub-Delivery is not signed, so the replay key is a hash of the signed bytes, and the list shows
  // the provider's id. replay answered 404 not_found for the id the list (and its --help) told the user to pass.
  it("takes the provider's own id the list shows, and replays the delivery stored under its replay key", async () => {
    const source = local.config.sources.get('github');
    if (!source) throw new Error('no github source');
    const body = Buffer.from('{"zen":"replay by provider id"}');
    const res = await fetch(`${local.url}/webhooks/github`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'application/json', ...source.scheme.sign(TEST_SECRETS.github, { body, id: 'gh-delivery-1' }) },
    });
    const { id: key } = (await res.json()) as { id: string };
    expect(key).toMatch(/^sig_/);
    const cli = (args: string[]) => capture(() => run(['node', 'hookwarden', ...args], context));
    expect((await cli(['deliveries'])).stdout).toContain('  github  gh-delivery-1  ');

    const before = receiver.received.length;
    const result = await cli(['replay', 'github', 'gh-delivery-1', '--to', receiver.url]);
    // The in-process server's log line and metric for the first read's 404 land on the same streams; the CLI's own say nothing else.
    expect(result.stderr).not.toMatch(/^hookwarden: /m);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toContain(`replayed github/${key} (${body.length} B) to ${receiver.url}: 200 OK`);
    expect(receiver.received[before]?.body.equals(body)).toBe(true);
    expect(receiver.received[before]?.headers['hookwarden-delivery-id']).toBe(key);

    const unknown = await cli(['replay', 'github', 'gh-delivery-2', '--to', receiver.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/cannot read delivery github\/gh-delivery-2 from the local server at \S+: 404 not_found/);
    expect(receiver.received.length).toBe(before + 1);
  });
});
