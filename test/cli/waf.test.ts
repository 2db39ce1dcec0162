import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { matchIpSet, updateIpSet } from '../../cli/waf.js';

const ARN = 'arn:aws:wafv2:us-east-1:123456789012:regional/ipset/FirewallBlockedIpv4-abc/1111-2222';

/**
 * WAF's JSON protocol over real HTTP, so the SDK's own retry runs: an IP set with a lock token
 * that every write changes, and a switch that applies the next UpdateIPSet and then drops the
 * connection instead of answering (the answer lost on the way back).
 */
describe('updateIpSet through the real SDK, against WAF lock tokens over HTTP', () => {
  let server: Server;
  let client: WAFV2Client;
  let addresses: string[];
  let version: number;
  let dropNextAnswer: boolean;
  /** Hold this many GetIPSet answers until that many reads arrived: two operators who read before either writes. */
  let holdReads: Array<() => void> | undefined;
  let readsToHold = 0;
  const targets: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const target = String(request.headers['x-amz-target']).split('.')[1] ?? '';
        targets.push(target);
        const input = JSON.parse(body) as { LockToken?: string; Addresses?: string[] };
        const answer = (status: number, json: unknown): void => {
          response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(json));
        };
        if (target === 'GetIPSet') {
          const read = {
            IPSet: { Name: 'FirewallBlockedIpv4-abc', Id: '1111-2222', ARN, IPAddressVersion: 'IPV4', Addresses: addresses },
            LockToken: `lock-${version}`,
          };
          if (holdReads && holdReads.length < readsToHold) {
            holdReads.push(() => answer(200, read));
            if (holdReads.length === readsToHold) {
              const held = holdReads;
              holdReads = undefined;
              held.forEach((release) => release());
            }
            return;
          }
          answer(200, read);
        } else if (target === 'UpdateIPSet' && input.LockToken !== `lock-${version}`) {
          answer(400, {
            __type: 'WAFOptimisticLockException',
            Message: 'AWS WAF couldn’t save your changes because the resource changed since you last retrieved it.',
          });
        } else if (target === 'UpdateIPSet') {
          addresses = input.Addresses ?? [];
          version += 1;
          if (dropNextAnswer) {
            dropNextAnswer = false;
            request.socket.destroy();
            return;
          }
          answer(200, { NextLockToken: `lock-${version}` });
        } else {
          answer(400, { __type: 'WAFInvalidOperationException', Message: `unexpected ${target}` });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new WAFV2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    addresses = ['198.51.100.0/24'];
    version = 1;
    dropNextAnswer = true;
    holdReads = undefined;
    targets.length = 0;
  });

  it('adds: the SDK resends the applied write with the old lock token, WAF refuses it, and a fresh read finds the address in: success', async () => {
    expect(await updateIpSet(client, ARN, '203.0.113.7/32', 'add')).toBe(true);
    expect(targets).toEqual(['GetIPSet', 'UpdateIPSet', 'UpdateIPSet', 'GetIPSet']);
    expect(addresses).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
  });

  it('removes: the same, for an unblock: lifted is reported as lifted', async () => {
    addresses = ['198.51.100.0/24', '203.0.113.7/32'];
    expect(await updateIpSet(client, ARN, '203.0.113.7/32', 'remove')).toBe(true);
    expect(targets).toEqual(['GetIPSet', 'UpdateIPSet', 'UpdateIPSet', 'GetIPSet']);
    expect(addresses).toEqual(['198.51.100.0/24']);
  });

  it('matchIpSet: the same lost answer, when block makes the set match the table: a change, written once, the table read before and after', async () => {
    let tableReads = 0;
    const inTable = async (): Promise<boolean> => {
      tableReads += 1;
      return true;
    };
    expect(await matchIpSet(client, ARN, '203.0.113.7/32', inTable)).toEqual({ member: true, changed: true });
    expect(targets).toEqual(['GetIPSet', 'UpdateIPSet', 'UpdateIPSet', 'GetIPSet']);
    expect(addresses).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(tableReads).toBe(2);
  });

  it('two operators who read the same lock token: the second write is refused, re-read and made; both addresses are in', async () => {
    dropNextAnswer = false;
    holdReads = [];
    readsToHold = 2;
    const results = await Promise.all([
      updateIpSet(client, ARN, '203.0.113.7/32', 'add'),
      updateIpSet(client, ARN, '192.0.2.50/32', 'add'),
    ]);
    expect(results).toEqual([true, true]);
    expect([...addresses].sort()).toEqual(['192.0.2.50/32', '198.51.100.0/24', '203.0.113.7/32']);
    expect(targets.filter((t) => t === 'UpdateIPSet')).toHaveLength(3);
  });
});
