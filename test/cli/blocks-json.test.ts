import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../cli/program.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { startFakeWaf, type FakeWaf } from '../helpers/fake-waf.js';
import { emptyDir } from '../helpers/harness.js';
import { capture } from '../helpers/capture.js';
import { answerStack, stackClients } from '../helpers/fake-stack.js';
import { failRequests } from '../helpers/store-faults.js';

// WAF over its JSON protocol on loopback (the real SDK parses its refusals); DynamoDB is dynalite;
// CloudFormation, which has no local server, is aws-sdk-client-mock.
const STACK = 'Hookwarden-prod';
const cfn = mockClient(CloudFormationClient);

describe('blocks --stack (and --json) when a WAF IP set or the table cannot be read', () => {
  let local: LocalStore;
  let waf: FakeWaf;
  let ipv4Set: string;
  let ipv6Set: string;

  beforeAll(async () => {
    local = await startLocalStore();
    waf = await startFakeWaf();
    ipv4Set = waf.addSet('FirewallBlockedIpv4-abc', '1111-2222');
    ipv6Set = waf.addSet('FirewallBlockedIpv6-abc', '3333-4444');
    const now = Math.floor(Date.now() / 1000);
    await new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName }).block({
      range: '203.0.113.7',
      expiresAt: now + 3600,
      reason: 'credential stuffing',
      createdAt: now,
    });
  });
  afterAll(async () => {
    await waf.close();
    await local.close();
  });
  beforeEach(() => {
    cfn.reset();
    answerStack(cfn, STACK, [
      [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
      [outputKey('blockedIpv4Set'), ipv4Set],
      [outputKey('blockedIpv6Set'), ipv6Set],
    ]);
    waf.refusals.clear();
    waf.sets.get('1111-2222')!.addresses = ['198.51.100.0/24'];
    waf.sets.get('3333-4444')!.addresses = ['2001:db8:bad::/48'];
  });

  /** The table throttles every read of the controls item (the SDK's retries included). */
  let tableThrottled = false;
  beforeEach(() => {
    tableThrottled = false;
  });

  const blocks = (extra = ['--json']): Promise<{ code: number; stdout: string; stderr: string }> =>
    capture(() =>
      run(
        ['node', 'hookwarden', 'blocks', '--stack', STACK, ...extra],
        { env: {}, cwd: emptyDir(), dataDir: emptyDir() },
        stackClients({
          dynamodb: () => {
            const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
            if (tableThrottled) failRequests(client, 'GetItemCommand', { times: Number.POSITIVE_INFINITY });
            return client;
          },
          wafv2: () => waf.client(),
        }),
      ),
    );

  it('both sets read: edge lists their members and unread is empty (exit 0)', async () => {
    const result = await blocks();
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      where: `stack ${STACK}`,
      blocks: [{ range: '203.0.113.7', reason: 'credential stuffing' }],
      edge: [
        { range: '198.51.100.0/24', set: 'FirewallBlockedIpv4-abc' },
        { range: '2001:db8:bad::/48', set: 'FirewallBlockedIpv6-abc' },
      ],
      unread: [],
    });
  });

  it('the IPv4 set refuses the read: prints the JSON of what was read (the IPv6 set too) and names the unread set in unread; exit 1', async () => {
    waf.refusals.set('GetIPSet 1111-2222', { type: 'AccessDeniedException', message: 'User is not authorized to perform: wafv2:GetIPSet' });
    const result = await blocks();
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      where: `stack ${STACK}`,
      blocks: [{ range: '203.0.113.7', until: expect.any(String), reason: 'credential stuffing' }],
      disabledSources: [],
      edge: [{ range: '2001:db8:bad::/48', set: 'FirewallBlockedIpv6-abc' }],
      unread: [{ set: 'FirewallBlockedIpv4-abc', arn: ipv4Set, reason: 'User is not authorized to perform: wafv2:GetIPSet' }],
    });
    expect(result.stderr).toBe('');
  });

  it('the plain list too: the IPv6 set is listed when the IPv4 set cannot be read, and the unread set named; exit 1', async () => {
    waf.refusals.set('GetIPSet 1111-2222', { type: 'AccessDeniedException', message: 'User is not authorized to perform: wafv2:GetIPSet' });
    const result = await blocks([]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2001:db8:bad::/48  at the edge (WAF IP set FirewallBlockedIpv6-abc, until unblock)');
    expect(result.stderr).toBe(
      'hookwarden: could not read the WAF IP set FirewallBlockedIpv4-abc (User is not authorized to perform: wafv2:GetIPSet): the addresses the edge drops are not listed\n',
    );
  });

  it('neither set can be read (the IP sets were removed): both named, the blocks in the functions still printed; exit 1', async () => {
    waf.refusals.set('GetIPSet 1111-2222', { type: 'WAFNonexistentItemException', message: 'no such set' });
    waf.refusals.set('GetIPSet 3333-4444', { type: 'WAFNonexistentItemException', message: 'no such set' });
    const result = await blocks();
    expect(result.code).toBe(1);
    const printed = JSON.parse(result.stdout) as { blocks: unknown[]; edge: unknown[]; unread: Array<{ set: string; reason: string }> };
    expect(printed.blocks).toHaveLength(1);
    expect(printed.edge).toEqual([]);
    expect(printed.unread).toEqual([
      { set: 'FirewallBlockedIpv4-abc', arn: ipv4Set, reason: "the IP set does not exist (was the stack's WAF removed?)" },
      { set: 'FirewallBlockedIpv6-abc', arn: ipv6Set, reason: "the IP set does not exist (was the stack's WAF removed?)" },
    ]);
  });

  it('the table cannot be read (throttled): --json still prints a document, the table named in unread, the sets read in edge; exit 1', async () => {
    tableThrottled = true;
    const result = await blocks();
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      where: `stack ${STACK}`,
      // Not known, not none: an empty list would read as "nothing is blocked".
      blocks: null,
      disabledSources: null,
      edge: [
        { range: '198.51.100.0/24', set: 'FirewallBlockedIpv4-abc' },
        { range: '2001:db8:bad::/48', set: 'FirewallBlockedIpv6-abc' },
      ],
      unread: [
        {
          table: RATE_LIMITS_TABLE.localName,
          reason: 'the table is throttling or did not answer (The level of configured provisioned throughput for the table was exceeded.)',
        },
      ],
    });
    expect(result.stdout).not.toMatch(/\n\s+at /);
    expect(result.stderr).toBe('');
  });

  it('the table and a set cannot be read: both in unread, the table first; exit 1', async () => {
    tableThrottled = true;
    waf.refusals.set('GetIPSet 3333-4444', { type: 'AccessDeniedException', message: 'User is not authorized to perform: wafv2:GetIPSet' });
    const result = await blocks();
    expect(result.code).toBe(1);
    const printed = JSON.parse(result.stdout) as { edge: unknown[]; unread: Array<Record<string, string>> };
    expect(printed.edge).toEqual([{ range: '198.51.100.0/24', set: 'FirewallBlockedIpv4-abc' }]);
    expect(printed.unread).toEqual([
      { table: RATE_LIMITS_TABLE.localName, reason: expect.stringMatching(/^the table is throttling or did not answer/) },
      { set: 'FirewallBlockedIpv6-abc', arn: ipv6Set, reason: 'User is not authorized to perform: wafv2:GetIPSet' },
    ]);
  });

  it('the table cannot be read, without --json: the message naming the table as before, nothing on stdout; exit 1', async () => {
    tableThrottled = true;
    const result = await blocks([]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `hookwarden: the table ${RATE_LIMITS_TABLE.localName} is throttling or did not answer (The level of configured provisioned throughput for the table was exceeded.): a change this command makes may not have been made; the same command is safe to run again\n`,
    );
  });
});
