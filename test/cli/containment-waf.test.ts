import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  GetIPSetCommand,
  UpdateIPSetCommand,
  WAFV2Client,
  WAFLimitsExceededException,
  WAFOptimisticLockException,
  type UpdateIPSetCommandInput,
} from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { emptyDir } from '../helpers/harness.js';
import { answerStack } from '../helpers/fake-stack.js';

// WAF and CloudFormation have no local server: aws-sdk-client-mock stands in, with a small fake of
// WAF's optimistic locking (every write needs the lock token of the last read, and changes it).
// test/cli/waf.test.ts drives the real SDK (its retry included) over HTTP. DynamoDB is dynalite.
const STACK = 'Hookwarden-prod';
const IPV4_SET = 'arn:aws:wafv2:us-east-1:123456789012:regional/ipset/FirewallBlockedIpv4-abc/1111-2222';
const IPV6_SET = 'arn:aws:wafv2:us-east-1:123456789012:regional/ipset/FirewallBlockedIpv6-abc/3333-4444';

/** One WAF IP set as WAF keeps it: addresses and a lock token that every write changes. */
class FakeIpSet {
  addresses: string[] = [];
  #version = 1;
  /** Run just before the next UpdateIPSet is judged, one per call: another operator's write, or our own lost answer. */
  readonly beforeUpdate: Array<(input: UpdateIPSetCommandInput) => void> = [];

  get lockToken(): string {
    return `lock-${this.#version}`;
  }

  write(addresses: readonly string[]): void {
    this.addresses = [...addresses];
    this.#version += 1;
  }

  update(input: UpdateIPSetCommandInput): { NextLockToken: string } {
    this.beforeUpdate.shift()?.(input);
    if (input.LockToken !== this.lockToken) throw lockException();
    this.write(input.Addresses ?? []);
    return { NextLockToken: this.lockToken };
  }
}

const lockException = (): WAFOptimisticLockException =>
  new WAFOptimisticLockException({
    message:
      'AWS WAF couldn’t save your changes because you tried to update or delete a resource that has changed since you last retrieved it.',
    $metadata: { httpStatusCode: 400 },
  });

const cfn = mockClient(CloudFormationClient);
const waf = mockClient(WAFV2Client);

describe('block and unblock --stack when the WAF IP set changes under them', () => {
  let local: LocalStore;
  let store: DynamoDbControlsStore;
  let ipv4: FakeIpSet;
  let lines: string[];
  /** Refuse the next DynamoDB UpdateItem calls (a throttled table), on the dynalite client the command gets. */
  let refuseDynamoUpdates = false;

  const outputs = (extra: Output[]): Output[] => [
    { OutputKey: outputKey('rateLimitsTable'), OutputValue: RATE_LIMITS_TABLE.localName },
    { OutputKey: outputKey('webhookUrl', 'default'), OutputValue: 'https://x/prod/webhooks/default' },
    ...extra,
  ];
  const stackWith = (extra: Output[]): void => {
    cfn
      .on(DescribeStacksCommand, { StackName: STACK })
      .resolves({ Stacks: [{ StackName: STACK, CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: outputs(extra) }] });
  };

  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
  });
  afterAll(() => local.close());

  beforeEach(async () => {
    cfn.reset();
    waf.reset();
    refuseDynamoUpdates = false;
    stackWith([
      { OutputKey: outputKey('blockedIpv4Set'), OutputValue: IPV4_SET },
      { OutputKey: outputKey('blockedIpv6Set'), OutputValue: IPV6_SET },
    ]);
    ipv4 = new FakeIpSet();
    ipv4.addresses = ['198.51.100.0/24'];
    waf.on(GetIPSetCommand, { Id: '1111-2222' }).callsFake(() => ({
      IPSet: { Name: 'FirewallBlockedIpv4-abc', Id: '1111-2222', ARN: IPV4_SET, IPAddressVersion: 'IPV4', Addresses: [...ipv4.addresses] },
      LockToken: ipv4.lockToken,
    }));
    waf.on(UpdateIPSetCommand, { Id: '1111-2222' }).callsFake((input: UpdateIPSetCommandInput) => ipv4.update(input));
    waf.on(GetIPSetCommand, { Id: '3333-4444' }).resolves({
      IPSet: { Name: 'FirewallBlockedIpv6-abc', Id: '3333-4444', ARN: IPV6_SET, IPAddressVersion: 'IPV6', Addresses: [] },
      LockToken: 'v6',
    });
    const now = Math.floor(Date.now() / 1000);
    for (const block of (await store.load(now)).blocks) await store.unblock(block.range);
  });

  const aws = () => ({
    cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
    dynamodb: () => {
      const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (refuseDynamoUpdates && context.commandName === 'UpdateItemCommand')
            throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), {
              name: 'ProvisionedThroughputExceededException',
              $metadata: { httpStatusCode: 400 },
            });
          return next(args);
        },
        { step: 'initialize', name: 'refuseUpdates' },
      );
      return client;
    },
    wafv2: () => new WAFV2Client({ region: 'us-east-1' }),
    secretsManager: () => new SecretsManagerClient({ region: 'us-east-1' }),
  });
  const runCli = async (args: string[]): Promise<number> => {
    lines = [];
    const capture = (chunk: unknown): boolean => {
      lines.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      return await run(['node', 'hookwarden', ...args, '--stack', STACK], { env: {}, cwd: emptyDir(), dataDir: emptyDir() }, aws());
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  };
  const blockedRanges = async (): Promise<string[]> => (await store.load(Math.floor(Date.now() / 1000))).blocks.map((b) => b.range);
  /** Another operator's block lands between our read and our write. */
  const otherOperatorAdds = (cidr: string) => (): void => ipv4.write([...ipv4.addresses, cidr]);
  /** Our write is applied, its answer lost; the SDK's retry carries the old lock token. */
  const answerLost = (input: UpdateIPSetCommandInput): void => ipv4.write(input.Addresses ?? []);

  it('block: a second operator wrote the set between our read and our write: re-reads and adds, keeping their address', async () => {
    ipv4.beforeUpdate.push(otherOperatorAdds('192.0.2.50/32'));
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(0);
    expect(ipv4.addresses.sort()).toEqual(['192.0.2.50/32', '198.51.100.0/24', '203.0.113.7/32']);
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
    expect(lines.join('')).toMatch(/added 203\.0\.113\.7\/32 to the WAF IP set/);
  });

  it('block: our write was applied and its answer lost (the retry meets a changed lock token): that is success', async () => {
    ipv4.beforeUpdate.push(answerLost);
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(0);
    expect(ipv4.addresses.sort()).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(1);
    expect(lines.join('')).toMatch(/added 203\.0\.113\.7\/32 to the WAF IP set/);
  });

  it('unblock: a second operator wrote the set between our read and our write: re-reads and removes, keeping their address', async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    ipv4.beforeUpdate.push(otherOperatorAdds('192.0.2.50/32'));
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(ipv4.addresses.sort()).toEqual(['192.0.2.50/32', '198.51.100.0/24']);
    expect(await blockedRanges()).toEqual([]);
    expect(lines.join('')).toMatch(/^unblocked 203\.0\.113\.7 /);
  });

  it('unblock: our removal was applied and its answer lost: lifted is reported as lifted', async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    ipv4.beforeUpdate.push(answerLost);
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(ipv4.addresses).toEqual(['198.51.100.0/24']);
    expect(lines.join('')).toMatch(/^unblocked 203\.0\.113\.7 /);
  });

  it('unblock of an address only at WAF (the app block already gone), whose removal answer was lost: says unblocked, not "was not blocked"', async () => {
    ipv4.write([...ipv4.addresses, '203.0.113.7/32']);
    ipv4.beforeUpdate.push(answerLost);
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(ipv4.addresses).toEqual(['198.51.100.0/24']);
    expect(lines.join('')).toMatch(/^unblocked 203\.0\.113\.7 /);
  });

  it('gives up after a bounded number of attempts when the set keeps changing', async () => {
    for (let i = 0; i < 20; i++) ipv4.beforeUpdate.push(otherOperatorAdds(`192.0.2.${i}/32`));
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(1);
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(5);
    expect(ipv4.addresses).not.toContain('203.0.113.7/32');
  });

  const text = (): string => lines.join('');
  const noStackTrace = (): void => expect(text()).not.toMatch(/^\s+at /m);

  it('block: says what stands and what does not when WAF keeps refusing the lock token', async () => {
    for (let i = 0; i < 20; i++) ipv4.beforeUpdate.push(otherOperatorAdds(`192.0.2.${i}/32`));
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(1);
    expect(text()).toMatch(/^blocked 203\.0\.113\.7 until /);
    expect(text()).toMatch(
      /hookwarden: 203\.0\.113\.7\/32 was NOT added to the WAF IP set FirewallBlockedIpv4-abc: the set changed between every read and write, 5 times .*The block above stands in the functions \(403 ip_blocked\), but the edge still lets 203\.0\.113\.7 reach Lambda: run the same block again/,
    );
    noStackTrace();
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
  });

  it.each([
    [
      'at its quota (WAFLimitsExceededException)',
      () =>
        new WAFLimitsExceededException({
          message: 'AWS WAF couldn’t perform the operation because you exceeded your resource limit.',
          $metadata: { httpStatusCode: 400 },
        }),
      /the set is full \(WAF allows 10,000 addresses in an IP set\): unblock addresses no longer needed, or block a wider range/,
    ],
    [
      'throttling',
      () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      /WAF is throttling or unavailable \(Rate exceeded\); try again/,
    ],
  ])("block: a set %s is a clear message, exit 1, and the functions' block stands", async (_, error, reason) => {
    waf.on(UpdateIPSetCommand, { Id: '1111-2222' }).rejects(error());
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(1);
    expect(text()).toMatch(reason);
    expect(text()).toMatch(/was NOT added to the WAF IP set FirewallBlockedIpv4-abc: .*The block above stands in the functions/);
    noStackTrace();
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
  });

  it('unblock: when WAF refuses, nothing is lifted and the command says so (not "unblocked")', async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    for (let i = 0; i < 20; i++) ipv4.beforeUpdate.push(otherOperatorAdds(`192.0.2.${i}/32`));
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(1);
    expect(text()).not.toMatch(/^unblocked/m);
    expect(text()).toMatch(
      /hookwarden: 203\.0\.113\.7 is NOT unblocked: 203\.0\.113\.7\/32 could not be removed from the WAF IP set FirewallBlockedIpv4-abc: .*Nothing was lifted/,
    );
    noStackTrace();
    expect(ipv4.addresses).toContain('203.0.113.7/32');
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
  });

  it('unblock: lifted at the edge but the table refuses the write: says it is only partly unblocked', async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    refuseDynamoUpdates = true;
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(1);
    expect(text()).toMatch(
      /hookwarden: 203\.0\.113\.7 is only partly unblocked: removed 203\.0\.113\.7\/32 from the WAF IP set, but the block in the functions of stack Hookwarden-prod could not be lifted: the table is throttling or did not answer \(The level of configured provisioned throughput .*run the same unblock again/,
    );
    noStackTrace();
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
    refuseDynamoUpdates = false;
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(text()).toMatch(/^unblocked 203\.0\.113\.7 /);
    expect(await blockedRanges()).toEqual([]);
  });

  it.each([
    ['no WAF IP set outputs (a stage without WAF)', [], '203.0.113.7', 'BlockedIpv4SetArn', 'no WAF in front'],
    [
      'no IPv6 set output',
      [{ OutputKey: outputKey('blockedIpv4Set'), OutputValue: IPV4_SET }],
      '2001:db8::7',
      'BlockedIpv6SetArn',
      'no WAF IP set for IPv6',
    ],
  ])('block on a stack with %s says that no edge drops the address', async (_, extra, address, missing, why) => {
    cfn.reset();
    stackWith(extra);
    expect(await runCli(['block', address, '--for', '1h'])).toBe(0);
    expect(text()).toContain(`stack ${STACK} has no ${missing} output (${why}): only the functions refuse ${address}, no edge drops it`);
    expect(waf.calls()).toHaveLength(0);
    expect(await blockedRanges()).toEqual([address]);
  });

  it('block on a stack whose IP set output is not an IP set ARN: exit 1, the block stands in the functions, no stack trace', async () => {
    cfn.reset();
    stackWith([{ OutputKey: outputKey('blockedIpv4Set'), OutputValue: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y' }]);
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(1);
    expect(text()).toMatch(/was NOT added to the WAF IP set .*not a WAF IP set ARN.*The block above stands in the functions/);
    noStackTrace();
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
  });

  it('block: the table refuses the write (throttled): WAF untouched, and the command names the table instead of "the delivery store"', async () => {
    refuseDynamoUpdates = true;
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(1);
    expect(text()).toMatch(
      /^hookwarden: the table hookwarden-rate-limits is throttling or did not answer \(The level of configured provisioned throughput for the table was exceeded\.\): a change this command makes may not have been made; the same command is safe to run again\n/,
    );
    noStackTrace();
    expect(waf.calls()).toHaveLength(0);
    expect(await blockedRanges()).toEqual([]);
  });

  it.each([['0.0.0.0/0'], ['::/0']])(
    'block %s (every address: WAF IP sets refuse /0) is refused before any write, pointing to disable',
    async (range) => {
      expect(await runCli(['block', range, '--for', '1h'])).toBe(2);
      expect(text()).toMatch(/is every IPv[46] address, which a WAF IP set refuses: to refuse every delivery of a source, disable it/);
      expect(waf.calls()).toHaveLength(0);
      expect(await blockedRanges()).toEqual([]);
    },
  );

  it("blocks --stack lists what the edge still drops: a WAF member outlives the block's --for, and unblock lifts it", async () => {
    // The functions' block has expired (or was lifted by hand); the WAF entry has no expiry.
    ipv4.write([...ipv4.addresses, '203.0.113.7/32']);
    expect(await runCli(['blocks'])).toBe(0);
    expect(text()).toContain('198.51.100.0/24  at the edge (WAF IP set FirewallBlockedIpv4-abc, until unblock)');
    expect(text()).toContain('203.0.113.7/32  at the edge (WAF IP set FirewallBlockedIpv4-abc, until unblock)');
    expect(text()).not.toMatch(/no blocked addresses/);
    expect(await runCli(['blocks', '--json'])).toBe(0);
    expect(JSON.parse(text())).toMatchObject({
      blocks: [],
      edge: [
        { range: '198.51.100.0/24', set: 'FirewallBlockedIpv4-abc' },
        { range: '203.0.113.7/32', set: 'FirewallBlockedIpv4-abc' },
      ],
    });
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(text()).toMatch(/^unblocked 203\.0\.113\.7 /);
    expect(ipv4.addresses).toEqual(['198.51.100.0/24']);
  });

  it("blocks --stack that cannot read a WAF IP set lists the functions' blocks and says which set it could not read (exit 1)", async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    waf.on(GetIPSetCommand, { Id: '1111-2222' }).rejects(
      Object.assign(new Error('User is not authorized to perform: wafv2:GetIPSet'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect(await runCli(['blocks'])).toBe(1);
    expect(text()).toMatch(/^203\.0\.113\.7 {2}until /);
    expect(text()).toMatch(
      /hookwarden: could not read the WAF IP set FirewallBlockedIpv4-abc \(User is not authorized to perform: wafv2:GetIPSet\): the addresses the edge drops are not listed/,
    );
    noStackTrace();
  });

  it('block of an address already in the WAF IP set says so, and writes nothing', async () => {
    ipv4.write([...ipv4.addresses, '203.0.113.7/32']);
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(0);
    expect(text()).toMatch(/203\.0\.113\.7\/32 was already in the WAF IP set/);
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });
});

describe('the WAF IP set holds an address in another spelling (added by hand in the console)', () => {
  let local: LocalStore;
  let ipv6: FakeIpSet;

  beforeAll(async () => {
    local = await startLocalStore();
  });
  beforeEach(() => {
    cfn.reset();
    waf.reset();
    answerStack(cfn, STACK, [
      [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
      [outputKey('blockedIpv6Set'), IPV6_SET],
    ]);
    ipv6 = new FakeIpSet();
    waf.on(GetIPSetCommand, { Id: '3333-4444' }).callsFake(() => ({
      IPSet: { Name: 'FirewallBlockedIpv6-abc', Id: '3333-4444', ARN: IPV6_SET, IPAddressVersion: 'IPV6', Addresses: [...ipv6.addresses] },
      LockToken: ipv6.lockToken,
    }));
    waf.on(UpdateIPSetCommand, { Id: '3333-4444' }).callsFake((input: UpdateIPSetCommandInput) => ipv6.update(input));
  });
  afterAll(() => local.close());

  const runCli = async (args: string[]): Promise<number> => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      return await run(
        ['node', 'hookwarden', ...args, '--stack', STACK],
        { env: {}, cwd: emptyDir(), dataDir: emptyDir() },
        {
          cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
          dynamodb: () => createDynamoDbClient({ endpoint: local.endpoint, region: 'local' }),
          wafv2: () => new WAFV2Client({ region: 'us-east-1' }),
          secretsManager: () => new SecretsManagerClient({ region: 'us-east-1' }),
        },
      );
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  };

  it.each([['2001:DB8:0:0:0:0:0:A/128'], ['2001:0db8:0000:0000:0000:0000:0000:000a/128'], ['2001:db8::a/128']])(
    'unblock 2001:db8::a removes %s from the set: the edge lets the client back in',
    async (spelled) => {
      ipv6.write(['2001:db8:bad::/48', spelled]);
      expect(await runCli(['unblock', '2001:db8::a'])).toBe(0);
      expect(ipv6.addresses).toEqual(['2001:db8:bad::/48']);
    },
  );

  it('block 2001:db8::a adds nothing when the set holds it in another spelling', async () => {
    ipv6.write(['2001:DB8::A/128']);
    expect(await runCli(['block', '2001:db8::a', '--for', '1h'])).toBe(0);
    expect(ipv6.addresses).toEqual(['2001:DB8::A/128']);
    expect(waf.commandCalls(UpdateIPSetCommand)).toHaveLength(0);
  });
});
