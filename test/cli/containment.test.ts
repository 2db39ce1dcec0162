import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { cli, startServer, type RunningServer } from '../helpers/cli.js';
import { stackClients } from '../helpers/fake-stack.js';
import { startFakeWaf, type FakeWaf } from '../helpers/fake-waf.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

describe('block, unblock, blocks, disable, enable against a running npm start', () => {
  const cwd = emptyDir();
  const env = { HOOKWARDEN_DATA_DIR: emptyDir(), WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, HOOKWARDEN_CONTROLS_REFRESH_SECONDS: '1' };
  let server: RunningServer;

  /** Sends until the answer's first line matches (the server's cache refreshes every second here). */
  const sendUntil = async (pattern: RegExp): Promise<string> => {
    let last = '';
    for (let i = 0; i < 40; i++) {
      last = (await cli(['send', 'default'], env, cwd)).stdout;
      if (pattern.test(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`never matched ${pattern}; last answer:\n${last}`);
  };

  beforeAll(async () => {
    server = await startServer(env, cwd);
  });
  afterAll(() => {
    server.process.kill('SIGKILL');
  });

  it('blocks the client (403 ip_blocked), lists the block, and unblocks it', async () => {
    const blocked = await cli(['block', '127.0.0.1', '--for', '1h', '--reason', 'incident 42'], env, cwd);
    expect(blocked.code).toBe(0);
    expect(blocked.stdout).toMatch(/^blocked 127\.0\.0\.1 until .* takes effect within 30 s/);
    expect(await sendUntil(/^HTTP 403/)).toContain('ip_blocked');
    const listed = await cli(['blocks'], env, cwd);
    expect(listed.stdout).toMatch(/127\.0\.0\.1 {2}until \S+ {2}incident 42/);
    expect((await cli(['unblock', '127.0.0.1'], env, cwd)).stdout).toMatch(/^unblocked 127\.0\.0\.1/);
    await sendUntil(/^HTTP 202/);
  });

  it('keeps a longer block when a second operator blocks the same address for less, and says so; unblock then block shortens it', async () => {
    expect((await cli(['block', '192.0.2.44', '--for', '24h', '--reason', 'first operator'], env, cwd)).code).toBe(0);
    const shorter = await cli(['block', '192.0.2.44', '--for', '1h', '--reason', 'second operator'], env, cwd);
    expect(shorter.code).toBe(0);
    expect(shorter.stdout).toMatch(
      /^192\.0\.2\.44 was already blocked until \S+ in .* \(first operator\): that longer block stays; to shorten it, unblock first/,
    );
    const until = (listing: string) => new Date(/192\.0\.2\.44 {2}until (\S+)/.exec(listing)?.[1] ?? 0).getTime();
    const listed = (await cli(['blocks'], env, cwd)).stdout;
    expect(listed).toContain('first operator');
    expect(until(listed) - Date.now()).toBeGreaterThan(23 * 3600_000);
    // A longer block replaces a shorter one.
    expect((await cli(['block', '192.0.2.44', '--for', '2d'], env, cwd)).stdout).toMatch(/^blocked 192\.0\.2\.44 until /);
    expect(until((await cli(['blocks'], env, cwd)).stdout) - Date.now()).toBeGreaterThan(47 * 3600_000);
    expect((await cli(['unblock', '192.0.2.44'], env, cwd)).code).toBe(0);
    expect((await cli(['block', '192.0.2.44', '--for', '1h'], env, cwd)).stdout).toMatch(/^blocked 192\.0\.2\.44 until /);
    expect(until((await cli(['blocks'], env, cwd)).stdout) - Date.now()).toBeLessThan(3600_000 + 60_000);
    expect((await cli(['unblock', '192.0.2.44'], env, cwd)).code).toBe(0);
  });

  it('disables a source (503 source_disabled, Retry-After) and enables it again', async () => {
    expect((await cli(['disable', 'default', '--reason', 'maintenance'], env, cwd)).code).toBe(0);
    expect(await sendUntil(/^HTTP 503/)).toContain('source_disabled');
    expect((await cli(['blocks'], env, cwd)).stdout).toMatch(/source default disabled since .* maintenance/);
    expect((await cli(['enable', 'default'], env, cwd)).code).toBe(0);
    await sendUntil(/^HTTP 202/);
  });

  it.each([
    [['block', 'not-an-ip', '--for', '1h'], /not an IP address or CIDR/],
    [['block', '10.0.0.0/33', '--for', '1h'], /invalid prefix length/],
    [['block', '10.0.0.1', '--for', '1 week'], /expected a duration/],
    [['block', '10.0.0.1'], /--for/],
    [['disable', 'nope'], /unknown source "nope" in .* \(configured: default\)/],
    [['enable'], /missing required argument/],
  ])('%j exits 2 with a clear message', async (args, message) => {
    const r = await cli(args, env, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('--stack: the same commands against a deployed stack', () => {
  // CloudFormation and Secrets Manager have no local server: aws-sdk-client-mock stands in. DynamoDB is
  // dynalite; WAF speaks its JSON protocol on loopback, with its lock tokens (test/helpers/fake-waf.ts).
  const cfn = mockClient(CloudFormationClient);
  const sm = mockClient(SecretsManagerClient);
  const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden-default-AbCdEf';
  let local: LocalStore;
  let waf: FakeWaf;
  let IPV4_SET: string;
  let lines: string[];
  const wafClients: WAFV2Client[] = [];

  beforeAll(async () => {
    local = await startLocalStore();
    waf = await startFakeWaf();
    IPV4_SET = waf.addSet('FirewallBlockedIpv4-abc', '1111-2222');
    cfn.on(DescribeStacksCommand, { StackName: 'Hookwarden-prod' }).resolves({
      Stacks: [
        {
          StackName: 'Hookwarden-prod',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          // Found by key: descriptions are for people and may say anything.
          Outputs: [
            {
              OutputKey: outputKey('rateLimitsTable'),
              OutputValue: RATE_LIMITS_TABLE.localName,
              Description: 'Webhook URL for source "decoy"',
            },
            { OutputKey: outputKey('blockedIpv4Set'), OutputValue: IPV4_SET },
            {
              OutputKey: outputKey('webhookUrl', 'default'),
              OutputValue: 'https://x/prod/webhooks/default',
              Description: 'Where the default provider posts',
            },
            {
              OutputKey: outputKey('secretArn', 'default'),
              OutputValue: SECRET_ARN,
              Description: 'Secret holding the keys of source "nope"',
            },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await waf.close();
    await local.close();
  });
  beforeEach(() => {
    waf.sets.get('1111-2222')!.addresses = ['198.51.100.0/24'];
    waf.calls.length = 0;
  });
  afterEach(() => {
    for (const client of wafClients.splice(0)) client.destroy();
  });

  const aws = () =>
    stackClients({
      dynamodb: () => createDynamoDbClient({ endpoint: local.endpoint, region: 'local' }),
      wafv2: () => {
        const client = waf.client();
        wafClients.push(client);
        return client;
      },
    });
  const runCli = async (args: string[], env: NodeJS.ProcessEnv = {}, cwd = emptyDir()) => {
    lines = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    const errors = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      return await run(['node', 'hookwarden', ...args], { env, cwd, dataDir: emptyDir() }, aws());
    } finally {
      spy.mockRestore();
      errors.mockRestore();
    }
  };

  it('blocks in the stack table (found through the outputs) and adds the CIDR to the WAF IP set with its lock token', async () => {
    expect(await runCli(['block', '203.0.113.7', '--for', '24h', '--reason', 'scanner', '--stack', 'Hookwarden-prod'])).toBe(0);
    const controls = await new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName }).load(
      Math.floor(Date.now() / 1000),
    );
    expect(controls.blocks).toEqual([expect.objectContaining({ range: '203.0.113.7', reason: 'scanner' })]);
    // One read and one write: WAF took the write, so it carried the lock token of that read, and the set's
    // name, scope and id from its ARN (the stand-in refuses any other, as WAF does).
    expect(waf.calls).toEqual(['GetIPSet 1111-2222', 'UpdateIPSet 1111-2222']);
    expect(waf.sets.get('1111-2222')?.addresses).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(lines.join('')).toMatch(/added 203\.0\.113\.7\/32 to the WAF IP set/);
  });

  it.each([
    ['203.0.113.8/32', '203.0.113.8'],
    ['203.0.113.9', '203.0.113.9/32'],
    ['198.51.100.77/24', '198.51.100.0/24'],
    ['2001:db8::1', '2001:DB8:0:0:0:0:0:1'],
    ['2001:0db8:0bad:0::/48', '2001:db8:bad::/48'],
  ])('unblocks a block made as %s when it is spelled %s: the client is let back in, not only the WAF entry', async (blocked, unblocked) => {
    const store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
    const now = Math.floor(Date.now() / 1000);
    expect(await runCli(['block', blocked, '--for', '1h', '--stack', 'Hookwarden-prod'])).toBe(0);
    const [entry] = (await store.load(now)).blocks.filter((b) => b.reason === 'blocked from the command line');
    expect(entry).toBeDefined();
    expect(await runCli(['unblock', unblocked, '--stack', 'Hookwarden-prod'])).toBe(0);
    expect(lines.join('')).toMatch(/^unblocked /);
    expect((await store.load(now)).blocks.map((b) => b.range)).not.toContain(entry?.range);
  });

  it('says when a wider block still holds the address it unblocked: in the functions and at the edge', async () => {
    const store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
    const now = Math.floor(Date.now() / 1000);
    // The WAF set holds 198.51.100.0/24 (see the fake above); the table a /16 around it and the address itself.
    await store.block({ range: '198.51.0.0/16', expiresAt: now + 3600, reason: 'network', createdAt: now });
    await store.block({ range: '198.51.100.9', expiresAt: now + 3600, reason: 'address', createdAt: now });
    try {
      expect(await runCli(['unblock', '198.51.100.9', '--stack', 'Hookwarden-prod'])).toBe(0);
      expect(lines.join('')).toMatch(/^unblocked 198\.51\.100\.9 /);
      expect(lines.join('')).toMatch(
        /198\.51\.100\.9 stays blocked by 198\.51\.0\.0\/16 \(in the functions until \S+\) and 198\.51\.100\.0\/24 \(at the edge, WAF IP set FirewallBlockedIpv4-abc\): unblock that range/,
      );
      // Not blocked itself, and held by the wider ones all the same.
      expect(await runCli(['unblock', '198.51.100.0/25', '--stack', 'Hookwarden-prod'])).toBe(0);
      expect(lines.join('')).toMatch(/was not blocked .*\n198\.51\.100\.0\/25 stays blocked by 198\.51\.0\.0\/16/s);
      // A range is not held by a narrower one, nor an address by another.
      expect(await runCli(['unblock', '198.0.0.0/8', '--stack', 'Hookwarden-prod'])).toBe(0);
      expect(lines.join('')).not.toMatch(/stays blocked/);
    } finally {
      await store.unblock('198.51.0.0/16');
    }
  });

  it('unblocks a block stored under another spelling (by hand, or by an earlier version)', async () => {
    const store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
    const now = Math.floor(Date.now() / 1000);
    await store.block({ range: '2001:0DB8:0:0::a/128', expiresAt: now + 3600, reason: 'by hand', createdAt: now });
    expect(await runCli(['unblock', '2001:db8::a', '--stack', 'Hookwarden-prod'])).toBe(0);
    expect(lines.join('')).toMatch(/^unblocked 2001:db8::a /);
    expect((await store.load(now)).blocks.filter((b) => b.reason === 'by hand')).toEqual([]);
  });

  it('refuses an unknown source of the stack, and a stack that is not Hookwarden', async () => {
    expect(await runCli(['disable', 'nope', '--stack', 'Hookwarden-prod'])).toBe(2);
    // A description naming a source makes no source: outputs are read by key.
    expect(await runCli(['disable', 'decoy', '--stack', 'Hookwarden-prod'])).toBe(2);
    cfn
      .on(DescribeStacksCommand, { StackName: 'Other' })
      .resolves({ Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
    expect(await runCli(['blocks', '--stack', 'Other'])).toBe(1);
    expect(lines.join('')).toMatch(/no RateLimitsTableName output/);
  });

  it('rotates a source secret: the new key first, the previous ones valid for the overlap only', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ keys: [], secret: 'generated-at-deploy' }) });
    sm.on(PutSecretValueCommand).resolves({});
    const before = Math.floor(Date.now() / 1000);
    expect(await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--overlap', '2h'])).toBe(0);
    const written = JSON.parse(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString as string) as {
      keys: Array<{ secret: string; notAfter?: number }>;
    };
    expect(written.keys).toHaveLength(2);
    expect(written.keys[0]?.notAfter).toBeUndefined();
    expect(written.keys[1]).toMatchObject({ secret: 'generated-at-deploy' });
    expect(written.keys[1]?.notAfter).toBeGreaterThanOrEqual(before + 7200);
    expect(written.keys[1]?.notAfter).toBeLessThanOrEqual(before + 7202);
    // The generated key is printed once, for the provider.
    expect(lines.join('')).toContain(written.keys[0]?.secret as string);
    expect(await runCli(['rotate', 'default'])).toBe(2);
    expect(await runCli(['rotate', 'nope', '--stack', 'Hookwarden-prod'])).toBe(2);
  });

  it.each([
    [
      'a key too short for a github source',
      'github',
      'Str0ng',
      /the new key has 6 bytes of key material; at least 16 are needed \(scheme github\); nothing was written/,
    ],
    [
      'a key that is not a Standard Webhooks secret',
      'standard-webhooks',
      'not base64 at all, but long enough',
      /the new key is not a Standard Webhooks secret .*nothing was written/,
    ],
  ])('refuses %s from --secret-env before reading or writing the secret', async (_, scheme, key, message) => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ keys: [{ secret: 'current-key-of-the-source' }] }) });
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'default', scheme }] }));
    expect(await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--secret-env', 'NEW_KEY'], { NEW_KEY: key }, cwd)).toBe(2);
    expect(lines.join('')).toMatch(message);
    expect(lines.join('')).not.toContain(key);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  /** `rotate default --stack Hookwarden-prod` for a shared-mode source: its exit code. */
  const rotateShared = async (): Promise<number> => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'default', scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared' } }] }),
    );
    return runCli(['rotate', 'default', '--stack', 'Hookwarden-prod'], {}, cwd);
  };

  it("starts the stack's rotation function for a github or shared source, and writes nothing itself", async () => {
    sm.reset();
    sm.on(RotateSecretCommand).resolves({});
    expect(await rotateShared()).toBe(0);
    expect(sm.commandCalls(RotateSecretCommand)[0]?.args[0].input).toEqual({ SecretId: SECRET_ARN, RotateImmediately: true });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(lines.join('')).toMatch(
      /started the rotation of source default in stack Hookwarden-prod: the stack's rotation function runs createSecret, setSecret, testSecret and finishSecret/,
    );
  });

  // RotateSecret while an earlier rotation is pending (AWSPENDING on a version that is not current): AWS's own words
  // named neither the secret nor what to do.
  it('says which secret has a rotation in progress and what to do when RotateSecret refuses a second one (exit 1)', async () => {
    sm.reset();
    sm.on(RotateSecretCommand).rejects(
      new InvalidRequestException({
        message: "A previous rotation isn't complete. That rotation will be reattempted.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect(await rotateShared()).toBe(1);
    const printed = lines.join('');
    expect(printed).toMatch(
      new RegExp(`^hookwarden: source default in stack Hookwarden-prod: a rotation of its secret ${SECRET_ARN} is still in progress`),
    );
    expect(printed).toContain('hookwarden keys default --stack Hookwarden-prod');
    expect(printed).toContain(`aws secretsmanager describe-secret --secret-id ${SECRET_ARN}`);
    expect(printed).toContain('docs/deploy.md, "A rotation that stays pending"');
    expect(printed).not.toMatch(/previous rotation isn't complete|InvalidRequestException|\n\s+at /);
    expect(printed).not.toMatch(/^started the rotation/m);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it("passes RotateSecret's other refusals on as AWS words them, not as a rotation in progress", async () => {
    sm.reset();
    sm.on(RotateSecretCommand).rejects(
      new InvalidRequestException({
        message: "You tried to perform the operation on a secret that's currently marked deleted.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect(await rotateShared()).toBe(1);
    expect(lines.join('')).toBe("hookwarden: You tried to perform the operation on a secret that's currently marked deleted.\n");
  });

  it('refuses --overlap for a github or shared source on a stack, whose rotation function keeps the deployed overlap, before any Secrets Manager call', async () => {
    sm.reset();
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({
        sources: [{ name: 'default', scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared', overlap: '2h' } }],
      }),
    );
    expect(await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--overlap', '7d'], {}, cwd)).toBe(2);
    expect(lines.join('')).toMatch(/--overlap: .*rotation function .*"overlap" \(2h\)/);
    expect(sm.calls()).toHaveLength(0);
  });

  it('refuses --secret-env for a github or shared source, as the local command does, before any Secrets Manager call', async () => {
    sm.reset();
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'default', scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared' } }] }),
    );
    const key = TEST_SECRETS.github;
    expect(await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--secret-env', 'NEW_KEY'], { NEW_KEY: key }, cwd)).toBe(2);
    expect(lines.join('')).toMatch(
      /source "default" rotates in "shared" mode, where Hookwarden makes the key: --secret-env is for manual sources/,
    );
    expect(lines.join('')).not.toContain(key);
    expect(sm.calls()).toHaveLength(0);
  });

  it('writes a provider key that fits the source scheme first', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ keys: [{ secret: 'current-key-of-the-source' }] }) });
    sm.on(PutSecretValueCommand).resolves({});
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'default', scheme: 'github' }] }));
    expect(
      await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--secret-env', 'NEW_KEY'], { NEW_KEY: TEST_SECRETS.github }, cwd),
    ).toBe(0);
    const written = JSON.parse(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString as string) as {
      keys: Array<{ secret: string }>;
    };
    expect(written.keys.map((k) => k.secret)).toEqual([TEST_SECRETS.github, 'current-key-of-the-source']);
  });

  // After the emergency stop (every key removed) a manual rotation is the way back: it was refused as malformed.
  it('writes the provider key into an emptied key document ({"keys":[]})', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"keys":[]}' });
    sm.on(PutSecretValueCommand).resolves({});
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'default', scheme: 'github' }] }));
    expect(
      await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--secret-env', 'NEW_KEY'], { NEW_KEY: TEST_SECRETS.github }, cwd),
    ).toBe(0);
    const written = JSON.parse(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString as string) as {
      keys: Array<{ secret: string }>;
    };
    expect(written.keys.map((k) => k.secret)).toEqual([TEST_SECRETS.github]);
  });

  it('names the secret whose current version is not a key document, never quoting it, and writes nothing', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"keys":[{"secret":"ThisIsTheOldKey0123456789abcdef",}]}' });
    sm.on(PutSecretValueCommand).resolves({});
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'default', scheme: 'github' }] }));
    expect(
      await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod', '--secret-env', 'NEW_KEY'], { NEW_KEY: TEST_SECRETS.github }, cwd),
    ).toBe(1);
    expect(lines.join('')).toContain(`${SECRET_ARN}: secret is not a JSON document`);
    expect(lines.join('')).toMatch(/nothing was written: fix the secret's current version first/);
    expect(lines.join('')).not.toMatch(/ThisIsTheOldKey/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  // A key made here went first at once: Stripe (Slack, Shopify) cannot be given it and went on signing with its own,
  // which expired with the overlap: every delivery refused a day later.
  it.each([
    ['stripe', 'Stripe'],
    ['slack', 'Slack'],
    ['shopify', 'Shopify'],
  ])('refuses to make a key for a %s source, whose provider issues its own, before any Secrets Manager call', async (scheme, issuer) => {
    sm.reset();
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'default', scheme }] }));
    expect(await runCli(['rotate', 'default', '--stack', 'Hookwarden-prod'], {}, cwd)).toBe(2);
    expect(lines.join('')).toMatch(
      new RegExp(`source "default" \\(scheme ${scheme}\\): ${issuer} issues the signing secret .* --secret-env NAME; nothing was written`),
    );
    expect(sm.calls()).toHaveLength(0);
  });
});
