import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One WAF IP set as WAF keeps it: its members and a lock token that every write changes. */
export interface FakeIpSet {
  readonly name: string;
  readonly arn: string;
  addresses: string[];
  version: number;
  /** Run just before the next UpdateIPSet calls of this set are judged, one per call: another operator's write ({@link FakeWaf.write}). */
  readonly beforeUpdate: Array<() => void>;
  /** How many of the next UpdateIPSet calls this set applies and then drops the connection of, instead of answering (the answer lost on the way back: the SDK sends the write again, with the old lock token). */
  loseAnswers: number;
}

/** A refusal WAF answers instead of doing the call: `__type` and message of its JSON protocol. */
export interface FakeWafRefusal {
  readonly type: string;
  readonly message: string;
  /** @default 400 */
  readonly status?: number;
}

/** A WAF that speaks WAFV2's JSON protocol on loopback, for the real SDK (its retries and error parsing included). */
export interface FakeWaf {
  /** IP sets by id. */
  readonly sets: Map<string, FakeIpSet>;
  /** `GetIPSet 1111-2222`, `UpdateIPSet 1111-2222`, … in the order they arrived. */
  readonly calls: string[];
  /** Refusals by `<operation> <id>` (`GetIPSet 1111-2222`), answered to every such call until deleted. */
  readonly refusals: Map<string, FakeWafRefusal>;
  /** Adds an IP set; returns its ARN. */
  addSet(name: string, id: string, addresses?: readonly string[]): string;
  /** Another operator's write of the set with id `id` (its lock token changes). */
  write(id: string, addresses: readonly string[]): void;
  /** A client for this WAF (one per operator: each has its own connections and middleware). */
  client(): WAFV2Client;
  close(): Promise<void>;
}

/** Starts a {@link FakeWaf} on 127.0.0.1 (an ephemeral port). */
export const startFakeWaf = async (): Promise<FakeWaf> => {
  const sets = new Map<string, FakeIpSet>();
  const calls: string[] = [];
  const refusals = new Map<string, FakeWafRefusal>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target']).split('.')[1] ?? '';
      const input = JSON.parse(body) as { Name?: string; Scope?: string; Id?: string; LockToken?: string; Addresses?: string[] };
      calls.push(`${operation} ${input.Id}`);
      const answer = (status: number, json: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(json));
      };
      const refusal = refusals.get(`${operation} ${input.Id}`);
      if (refusal) return answer(refusal.status ?? 400, { __type: refusal.type, Message: refusal.message });
      const set = sets.get(input.Id ?? '');
      // WAF finds a set by name, scope and id together: the command must take all three from the ARN.
      if (!set || input.Name !== set.name || input.Scope !== 'REGIONAL')
        return answer(400, {
          __type: 'WAFNonexistentItemException',
          Message: 'AWS WAF couldn’t perform the operation because your resource doesn’t exist.',
        });
      if (operation === 'GetIPSet')
        return answer(200, {
          IPSet: {
            Name: set.name,
            Id: input.Id,
            ARN: set.arn,
            IPAddressVersion: /ipv6/i.test(set.name) ? 'IPV6' : 'IPV4',
            Addresses: set.addresses,
          },
          LockToken: `lock-${set.version}`,
        });
      if (operation === 'UpdateIPSet') {
        set.beforeUpdate.shift()?.();
        if (input.LockToken !== `lock-${set.version}`)
          return answer(400, {
            __type: 'WAFOptimisticLockException',
            Message: 'AWS WAF couldn’t save your changes because the resource changed since you last retrieved it.',
          });
        set.addresses = [...(input.Addresses ?? [])];
        set.version += 1;
        if (set.loseAnswers > 0) {
          set.loseAnswers -= 1;
          request.socket.destroy();
          return;
        }
        return answer(200, { NextLockToken: `lock-${set.version}` });
      }
      return answer(400, { __type: 'WAFInvalidOperationException', Message: `unexpected ${operation}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    sets,
    calls,
    refusals,
    addSet(name, id, addresses = []) {
      const arn = `arn:aws:wafv2:us-east-1:123456789012:regional/ipset/${name}/${id}`;
      sets.set(id, { name, arn, addresses: [...addresses], version: 1, beforeUpdate: [], loseAnswers: 0 });
      return arn;
    },
    write(id, addresses) {
      const set = sets.get(id);
      if (!set) throw new Error(`no IP set ${id}`);
      set.addresses = [...addresses];
      set.version += 1;
    },
    client: () =>
      new WAFV2Client({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
