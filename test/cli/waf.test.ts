import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { matchIpSet, updateIpSet } from '../../cli/waf.js';
import { startFakeWaf, type FakeIpSet, type FakeWaf } from '../helpers/fake-waf.js';
import { holdCall } from '../helpers/hold-call.js';

/**
 * WAF's JSON protocol over real HTTP (test/helpers/fake-waf.ts), so the SDK's own retry runs: an IP
 * set with a lock token that every write changes, and the next UpdateIPSet applied and its connection
 * dropped instead of answered (the answer lost on the way back).
 */
describe('updateIpSet through the real SDK, against WAF lock tokens over HTTP', () => {
  let waf: FakeWaf;
  let ARN: string;
  let set: FakeIpSet;
  const clients: WAFV2Client[] = [];
  const client = (): WAFV2Client => {
    const made = waf.client();
    clients.push(made);
    return made;
  };
  /** The calls WAF received, without the set's id. */
  const targets = (): string[] => waf.calls.map((call) => call.split(' ')[0] as string);

  beforeAll(async () => {
    waf = await startFakeWaf();
    ARN = waf.addSet('FirewallBlockedIpv4-abc', '1111-2222');
    set = waf.sets.get('1111-2222')!;
  });
  afterAll(() => waf.close());
  beforeEach(() => {
    set.addresses = ['198.51.100.0/24'];
    set.loseAnswers = 1;
    waf.calls.length = 0;
  });
  afterEach(() => {
    for (const made of clients.splice(0)) made.destroy();
  });

  it('adds: the SDK resends the applied write with the old lock token, WAF refuses it, and a fresh read finds the address in: success', async () => {
    expect(await updateIpSet(client(), ARN, '203.0.113.7/32', 'add')).toBe(true);
    expect(targets()).toEqual(['GetIPSet', 'UpdateIPSet', 'UpdateIPSet', 'GetIPSet']);
    expect(set.addresses).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
  });

  it('removes: the same, for an unblock: lifted is reported as lifted', async () => {
    set.addresses = ['198.51.100.0/24', '203.0.113.7/32'];
    expect(await updateIpSet(client(), ARN, '203.0.113.7/32', 'remove')).toBe(true);
    expect(targets()).toEqual(['GetIPSet', 'UpdateIPSet', 'UpdateIPSet', 'GetIPSet']);
    expect(set.addresses).toEqual(['198.51.100.0/24']);
  });

  it('matchIpSet: the same lost answer, when block makes the set match the table: a change, written once, the table read before and after', async () => {
    let tableReads = 0;
    const inTable = async (): Promise<boolean> => {
      tableReads += 1;
      return true;
    };
    expect(await matchIpSet(client(), ARN, '203.0.113.7/32', inTable)).toEqual({ member: true, changed: true });
    expect(targets()).toEqual(['GetIPSet', 'UpdateIPSet', 'UpdateIPSet', 'GetIPSet']);
    expect(set.addresses).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(tableReads).toBe(2);
  });

  it('two operators who read the same lock token: the second write is refused, re-read and made; both addresses are in', async () => {
    set.loseAnswers = 0;
    // Each operator's first write is held until both have read: both carry the lock token of the same read.
    const [first, second] = [client(), client()];
    const writes = [holdCall(first, 'UpdateIPSetCommand'), holdCall(second, 'UpdateIPSetCommand')];
    const results = Promise.all([updateIpSet(first, ARN, '203.0.113.7/32', 'add'), updateIpSet(second, ARN, '192.0.2.50/32', 'add')]);
    await Promise.all(writes.map((write) => write.reached));
    for (const write of writes) write.release();
    expect(await results).toEqual([true, true]);
    expect([...set.addresses].sort()).toEqual(['192.0.2.50/32', '198.51.100.0/24', '203.0.113.7/32']);
    expect(targets().filter((t) => t === 'UpdateIPSet')).toHaveLength(3);
  });
});
