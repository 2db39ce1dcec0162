import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../cli/program.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { capture } from '../helpers/capture.js';
import { answerStack, stackClients } from '../helpers/fake-stack.js';
import { startFakeWaf, type FakeIpSet, type FakeWaf } from '../helpers/fake-waf.js';
import { emptyDir } from '../helpers/harness.js';
import { failRequests } from '../helpers/store-faults.js';

// WAF speaks its JSON protocol on loopback (test/helpers/fake-waf.ts) with its lock tokens: every write
// needs the token of the last read, and changes it. The real SDK serializes each call and parses each
// refusal, and resends a write whose answer was lost. DynamoDB is dynalite; CloudFormation, which has no
// local server, is aws-sdk-client-mock.
const STACK = 'Hookwarden-prod';
const cfn = mockClient(CloudFormationClient);

let local: LocalStore;
let store: DynamoDbControlsStore;
let waf: FakeWaf;
let IPV4_SET: string;
let IPV6_SET: string;
let ipv4: FakeIpSet;
let ipv6: FakeIpSet;
const wafClients: WAFV2Client[] = [];

beforeAll(async () => {
  local = await startLocalStore();
  store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
  waf = await startFakeWaf();
  IPV4_SET = waf.addSet('FirewallBlockedIpv4-abc', '1111-2222');
  IPV6_SET = waf.addSet('FirewallBlockedIpv6-abc', '3333-4444');
  ipv4 = waf.sets.get('1111-2222')!;
  ipv6 = waf.sets.get('3333-4444')!;
});
afterAll(async () => {
  await waf.close();
  await local.close();
});
beforeEach(async () => {
  cfn.reset();
  waf.refusals.clear();
  waf.calls.length = 0;
  for (const set of [ipv4, ipv6]) {
    set.beforeUpdate.length = 0;
    set.loseAnswers = 0;
  }
  ipv4.addresses = ['198.51.100.0/24'];
  ipv6.addresses = [];
  for (const block of (await store.load(0)).blocks) await store.unblock(block.range);
});
afterEach(() => {
  for (const client of wafClients.splice(0)) client.destroy();
});

/** The WAF calls of the command, as `UpdateIPSet 1111-2222`: each HTTP request, the SDK's resends included. */
const updates = (): string[] => waf.calls.filter((call) => call.startsWith('UpdateIPSet'));

/** Runs `hookwarden <args> --stack`, its standard output and error as one text; `throttleTableWrites` throttles every UpdateItem of the table. */
const stackCli = async (args: string[], throttleTableWrites = false): Promise<{ code: number; text: string }> => {
  const aws = stackClients({
    dynamodb: () => {
      const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
      if (throttleTableWrites) failRequests(client, 'UpdateItemCommand', { times: Number.POSITIVE_INFINITY });
      return client;
    },
    wafv2: () => {
      const client = waf.client();
      wafClients.push(client);
      return client;
    },
  });
  const { code, stdout, stderr } = await capture(() =>
    run(['node', 'hookwarden', ...args, '--stack', STACK], { env: {}, cwd: emptyDir(), dataDir: emptyDir() }, aws),
  );
  return { code, text: stdout + stderr };
};

describe('block and unblock --stack when the WAF IP set changes under them', () => {
  let lines: string;
  /** Throttle every DynamoDB UpdateItem of the next commands (a throttled table). */
  let refuseDynamoUpdates = false;

  const stackWith = (extra: ReadonlyArray<readonly [string, string]>): void =>
    answerStack(cfn, STACK, [
      [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
      [outputKey('webhookUrl', 'default'), 'https://x/prod/webhooks/default'],
      ...extra,
    ]);

  beforeEach(() => {
    refuseDynamoUpdates = false;
    stackWith([
      [outputKey('blockedIpv4Set'), IPV4_SET],
      [outputKey('blockedIpv6Set'), IPV6_SET],
    ]);
  });

  const runCli = async (args: string[]): Promise<number> => {
    const { code, text } = await stackCli(args, refuseDynamoUpdates);
    lines = text;
    return code;
  };
  const text = (): string => lines;
  const blockedRanges = async (): Promise<string[]> => (await store.load(Math.floor(Date.now() / 1000))).blocks.map((b) => b.range);
  /** Another operator's block lands between our read and our write. */
  const otherOperatorAdds = (cidr: string) => (): void => waf.write('1111-2222', [...ipv4.addresses, cidr]);

  it('block: a second operator wrote the set between our read and our write: re-reads and adds, keeping their address', async () => {
    ipv4.beforeUpdate.push(otherOperatorAdds('192.0.2.50/32'));
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(0);
    expect(ipv4.addresses.sort()).toEqual(['192.0.2.50/32', '198.51.100.0/24', '203.0.113.7/32']);
    expect(await blockedRanges()).toEqual(['203.0.113.7']);
    expect(text()).toMatch(/added 203\.0\.113\.7\/32 to the WAF IP set/);
  });

  it('block: our write was applied and its answer lost (the retry meets a changed lock token): that is success', async () => {
    ipv4.loseAnswers = 1;
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(0);
    expect(ipv4.addresses.sort()).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    // One write by the command: the second UpdateIPSet is the SDK's resend (no read before it), refused for its old lock token.
    expect(waf.calls).toEqual(['GetIPSet 1111-2222', 'UpdateIPSet 1111-2222', 'UpdateIPSet 1111-2222', 'GetIPSet 1111-2222']);
    expect(text()).toMatch(/added 203\.0\.113\.7\/32 to the WAF IP set/);
  });

  it('unblock: a second operator wrote the set between our read and our write: re-reads and removes, keeping their address', async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    ipv4.beforeUpdate.push(otherOperatorAdds('192.0.2.50/32'));
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(ipv4.addresses.sort()).toEqual(['192.0.2.50/32', '198.51.100.0/24']);
    expect(await blockedRanges()).toEqual([]);
    expect(text()).toMatch(/^unblocked 203\.0\.113\.7 /);
  });

  it('unblock: our removal was applied and its answer lost: lifted is reported as lifted', async () => {
    await runCli(['block', '203.0.113.7', '--for', '1h']);
    ipv4.loseAnswers = 1;
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(ipv4.addresses).toEqual(['198.51.100.0/24']);
    expect(text()).toMatch(/^unblocked 203\.0\.113\.7 /);
  });

  it('unblock of an address only at WAF (the app block already gone), whose removal answer was lost: says unblocked, not "was not blocked"', async () => {
    waf.write('1111-2222', [...ipv4.addresses, '203.0.113.7/32']);
    ipv4.loseAnswers = 1;
    expect(await runCli(['unblock', '203.0.113.7'])).toBe(0);
    expect(ipv4.addresses).toEqual(['198.51.100.0/24']);
    expect(text()).toMatch(/^unblocked 203\.0\.113\.7 /);
  });

  it('gives up after a bounded number of attempts when the set keeps changing', async () => {
    for (let i = 0; i < 20; i++) ipv4.beforeUpdate.push(otherOperatorAdds(`192.0.2.${i}/32`));
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(1);
    expect(updates()).toHaveLength(5);
    expect(ipv4.addresses).not.toContain('203.0.113.7/32');
  });

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
      { type: 'WAFLimitsExceededException', message: 'AWS WAF couldn’t perform the operation because you exceeded your resource limit.' },
      /the set is full \(WAF allows 10,000 addresses in an IP set\): unblock addresses no longer needed, or block a wider range/,
    ],
    [
      'throttling',
      { type: 'ThrottlingException', message: 'Rate exceeded' },
      /WAF is throttling or unavailable \(Rate exceeded\); try again/,
    ],
  ])("block: a set %s is a clear message, exit 1, and the functions' block stands", async (_, refusal, reason) => {
    waf.refusals.set('UpdateIPSet 1111-2222', refusal);
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
    ['no WAF IP set outputs (a stage without WAF)', () => [], '203.0.113.7', 'BlockedIpv4SetArn', 'no WAF in front'],
    [
      'no IPv6 set output',
      () => [[outputKey('blockedIpv4Set'), IPV4_SET] as const],
      '2001:db8::7',
      'BlockedIpv6SetArn',
      'no WAF IP set for IPv6',
    ],
  ])('block on a stack with %s says that no edge drops the address', async (_, extra, address, missing, why) => {
    cfn.reset();
    stackWith(extra());
    expect(await runCli(['block', address, '--for', '1h'])).toBe(0);
    expect(text()).toContain(`stack ${STACK} has no ${missing} output (${why}): only the functions refuse ${address}, no edge drops it`);
    expect(waf.calls).toEqual([]);
    expect(await blockedRanges()).toEqual([address]);
  });

  it('block on a stack whose IP set output is not an IP set ARN: exit 1, the block stands in the functions, no stack trace', async () => {
    cfn.reset();
    stackWith([[outputKey('blockedIpv4Set'), 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y']]);
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
    expect(waf.calls).toEqual([]);
    expect(await blockedRanges()).toEqual([]);
  });

  it.each([['0.0.0.0/0'], ['::/0']])(
    'block %s (every address: WAF IP sets refuse /0) is refused before any write, pointing to disable',
    async (range) => {
      expect(await runCli(['block', range, '--for', '1h'])).toBe(2);
      expect(text()).toMatch(/is every IPv[46] address, which a WAF IP set refuses: to refuse every delivery of a source, disable it/);
      expect(waf.calls).toEqual([]);
      expect(await blockedRanges()).toEqual([]);
    },
  );

  it("blocks --stack lists what the edge still drops: a WAF member outlives the block's --for, and unblock lifts it", async () => {
    // The functions' block has expired (or was lifted by hand); the WAF entry has no expiry.
    waf.write('1111-2222', [...ipv4.addresses, '203.0.113.7/32']);
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
    waf.refusals.set('GetIPSet 1111-2222', { type: 'AccessDeniedException', message: 'User is not authorized to perform: wafv2:GetIPSet' });
    expect(await runCli(['blocks'])).toBe(1);
    expect(text()).toMatch(/^203\.0\.113\.7 {2}until /);
    expect(text()).toMatch(
      /hookwarden: could not read the WAF IP set FirewallBlockedIpv4-abc \(User is not authorized to perform: wafv2:GetIPSet\): the addresses the edge drops are not listed/,
    );
    noStackTrace();
  });

  it('block of an address already in the WAF IP set says so, and writes nothing', async () => {
    waf.write('1111-2222', [...ipv4.addresses, '203.0.113.7/32']);
    expect(await runCli(['block', '203.0.113.7', '--for', '1h'])).toBe(0);
    expect(text()).toMatch(/203\.0\.113\.7\/32 was already in the WAF IP set/);
    expect(updates()).toEqual([]);
  });
});

describe('the WAF IP set holds an address in another spelling (added by hand in the console)', () => {
  beforeEach(() =>
    answerStack(cfn, STACK, [
      [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
      [outputKey('blockedIpv6Set'), IPV6_SET],
    ]),
  );
  const runCli = async (args: string[]): Promise<number> => (await stackCli(args)).code;

  it.each([['2001:DB8:0:0:0:0:0:A/128'], ['2001:0db8:0000:0000:0000:0000:0000:000a/128'], ['2001:db8::a/128']])(
    'unblock 2001:db8::a removes %s from the set: the edge lets the client back in',
    async (spelled) => {
      waf.write('3333-4444', ['2001:db8:bad::/48', spelled]);
      expect(await runCli(['unblock', '2001:db8::a'])).toBe(0);
      expect(ipv6.addresses).toEqual(['2001:db8:bad::/48']);
    },
  );

  it('block 2001:db8::a adds nothing when the set holds it in another spelling', async () => {
    waf.write('3333-4444', ['2001:DB8::A/128']);
    expect(await runCli(['block', '2001:db8::a', '--for', '1h'])).toBe(0);
    expect(ipv6.addresses).toEqual(['2001:DB8::A/128']);
    expect(updates()).toEqual([]);
  });
});
