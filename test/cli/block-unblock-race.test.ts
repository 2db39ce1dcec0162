import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/program.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { startFakeWaf, type FakeWaf } from '../helpers/fake-waf.js';
import { emptyDir } from '../helpers/harness.js';
import { holdCall } from '../helpers/hold-call.js';
import { answerStack, stackClients } from '../helpers/fake-stack.js';

// Two operators, `block` and `unblock` of one address at the same time on a stack with WAF. Each
// command has its own clients; a held call (test/helpers/hold-call.ts) fixes the interleaving.
// WAF speaks its JSON protocol on loopback with its lock tokens, DynamoDB is dynalite, and
// CloudFormation (no local server) is aws-sdk-client-mock.
const STACK = 'Hookwarden-prod';
const ADDRESS = '203.0.113.7';
const cfn = mockClient(CloudFormationClient);

describe('block and unblock of the same address at the same time end with the table and the WAF IP set agreeing', () => {
  let local: LocalStore;
  let store: DynamoDbControlsStore;
  let waf: FakeWaf;
  let ipv4Set: string;
  let printed: string;
  const clients: Array<DynamoDBClient | WAFV2Client> = [];

  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
    waf = await startFakeWaf();
    ipv4Set = waf.addSet('FirewallBlockedIpv4-abc', '1111-2222');
  });
  afterAll(async () => {
    await waf.close();
    await local.close();
  });
  beforeEach(async () => {
    cfn.reset();
    answerStack(cfn, STACK, [
      [outputKey('rateLimitsTable'), RATE_LIMITS_TABLE.localName],
      [outputKey('blockedIpv4Set'), ipv4Set],
    ]);
    waf.sets.get('1111-2222')!.addresses = ['198.51.100.0/24'];
    for (const block of (await store.load(0)).blocks) await store.unblock(block.range);
    printed = '';
    const capture = (chunk: unknown): boolean => ((printed += String(chunk)), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const client of clients.splice(0)) client.destroy();
  });

  /** One operator: its own DynamoDB and WAF clients, so a test can hold one operator's call. */
  const operator = (): { dynamodb: DynamoDBClient; waf: WAFV2Client; run(args: string[]): Promise<number> } => {
    const dynamodb = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    const wafClient = waf.client();
    clients.push(wafClient);
    const aws = stackClients({ dynamodb: () => dynamodb, wafv2: () => wafClient });
    return {
      dynamodb,
      waf: wafClient,
      run: (args) => run(['node', 'hookwarden', ...args, '--stack', STACK], { env: {}, cwd: emptyDir(), dataDir: emptyDir() }, aws),
    };
  };
  const inTable = async (): Promise<boolean> => (await store.load(0)).blocks.some((b) => b.range === ADDRESS);
  const atEdge = (): boolean => waf.sets.get('1111-2222')!.addresses.includes(`${ADDRESS}/32`);

  it('unblock lifts an expired entry of the address in another spelling too: not taken for a block made at the same time', async () => {
    const now = Math.floor(Date.now() / 1000);
    await store.block({ range: `${ADDRESS}/32`, expiresAt: now - 60, reason: 'by hand, expired', createdAt: now - 3660 });
    expect(await operator().run(['unblock', ADDRESS])).toBe(0);
    expect({ table: (await store.load(0)).blocks.length > 0, edge: atEdge() }).toEqual({ table: false, edge: false });
    expect(printed).toMatch(/^unblocked 203\.0\.113\.7 /m);
  });

  it("unblock runs whole while block's WAF write is on its way: block takes it out of the set again, and says it is not blocked", async () => {
    const blocker = operator();
    const wafWrite = holdCall(blocker.waf, 'UpdateIPSetCommand');
    const blocking = blocker.run(['block', ADDRESS, '--for', '1h']);
    await wafWrite.reached; // block wrote the table and read the set; its write of the set is held
    expect(await operator().run(['unblock', ADDRESS])).toBe(0);
    wafWrite.release();
    const code = await blocking;
    expect({ table: await inTable(), edge: atEdge() }).toEqual({ table: false, edge: false });
    expect(code).toBe(1);
    expect(printed).toMatch(/^unblocked 203\.0\.113\.7 in stack Hookwarden-prod/m);
    expect(printed).toMatch(
      /hookwarden: 203\.0\.113\.7 is NOT blocked: an unblock of it ran at the same time and lifted the block above after this command wrote it, so 203\.0\.113\.7\/32 is not in the WAF IP set FirewallBlockedIpv4-abc either/,
    );
  });

  it("block runs whole between unblock's removal from the set and its lift in the table: unblock takes it out of the set again", async () => {
    const unblocker = operator();
    const lift = holdCall(unblocker.dynamodb, 'UpdateItemCommand');
    const unblocking = unblocker.run(['unblock', ADDRESS]);
    await lift.reached; // unblock read the set (nothing to remove yet); its lift in the table is held
    expect(await operator().run(['block', ADDRESS, '--for', '1h'])).toBe(0);
    expect(atEdge()).toBe(true);
    lift.release();
    expect(await unblocking).toBe(0);
    expect({ table: await inTable(), edge: atEdge() }).toEqual({ table: false, edge: false });
    expect(printed).toMatch(/^unblocked 203\.0\.113\.7 in stack Hookwarden-prod/m);
  });

  it('block runs whole after unblock lifted it in the table: unblock says it is blocked again (exit 1), not "unblocked"', async () => {
    const unblocker = operator();
    const check = holdCall(unblocker.waf, 'GetIPSetCommand', 2);
    const unblocking = unblocker.run(['unblock', ADDRESS]);
    await check.reached; // unblock removed it from the set and lifted it in the table; its second read of the set is held
    expect(await operator().run(['block', ADDRESS, '--for', '1h', '--reason', 'scanner'])).toBe(0);
    check.release();
    expect(await unblocking).toBe(1);
    expect({ table: await inTable(), edge: atEdge() }).toEqual({ table: true, edge: true });
    expect(printed).not.toMatch(/^unblocked/m);
    expect(printed).toMatch(
      /hookwarden: 203\.0\.113\.7 is blocked again: a block of it ran at the same time and was written in the functions after this command lifted it \(until \S+, scanner\), so 203\.0\.113\.7\/32 is in the WAF IP set FirewallBlockedIpv4-abc too .*run the same unblock again to lift it/,
    );
  });

  it('block writes the table after unblock lifted it, before its own WAF write: unblock puts it in the set, block finds it there', async () => {
    const unblocker = operator();
    const check = holdCall(unblocker.waf, 'GetIPSetCommand', 2);
    const unblocking = unblocker.run(['unblock', ADDRESS]);
    await check.reached;
    const blocker = operator();
    const wafRead = holdCall(blocker.waf, 'GetIPSetCommand');
    const blocking = blocker.run(['block', ADDRESS, '--for', '1h']);
    await wafRead.reached; // block wrote the table; its read of the set is held
    check.release();
    expect(await unblocking).toBe(1);
    expect(atEdge()).toBe(true);
    wafRead.release();
    expect(await blocking).toBe(0);
    expect({ table: await inTable(), edge: atEdge() }).toEqual({ table: true, edge: true });
    expect(printed).toMatch(/203\.0\.113\.7 is blocked again: /);
    expect(printed).toMatch(/203\.0\.113\.7\/32 was already in the WAF IP set/);
  });
});
