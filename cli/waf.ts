import { GetIPSetCommand, UpdateIPSetCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';
import type { Address } from '../core/net.js';

/** `arn:aws:wafv2:<region>:<account>:regional/ipset/<name>/<id>` → name and id. */
const parseIpSetArn = (arn: string): { Name: string; Id: string; Scope: 'REGIONAL' | 'CLOUDFRONT' } => {
  const match = /:(regional|global)\/ipset\/([^/]+)\/([^/]+)$/.exec(arn);
  if (!match) throw new Error(`not a WAF IP set ARN: ${arn}`);
  return { Name: match[2] as string, Id: match[3] as string, Scope: match[1] === 'global' ? 'CLOUDFRONT' : 'REGIONAL' };
};

/** WAF wants CIDR notation: a single address (`range` as the blocklist spells it) becomes /32 or /128. */
export const wafCidr = (range: string, address: Address): string =>
  range.includes('/') ? range : `${range}/${address.family === 'ipv4' ? 32 : 128}`;

/**
 * Adds or removes one CIDR in a WAF IP set (read, change, write with the lock
 * token WAF requires, so a concurrent change is not overwritten).
 * @returns whether the set changed
 */
export const updateIpSet = async (client: WAFV2Client, arn: string, cidr: string, change: 'add' | 'remove'): Promise<boolean> => {
  const id = parseIpSetArn(arn);
  const current = await client.send(new GetIPSetCommand(id));
  const addresses = new Set(current.IPSet?.Addresses ?? []);
  const had = addresses.has(cidr);
  if (change === 'add') addresses.add(cidr);
  else addresses.delete(cidr);
  if (had === (change === 'add')) return false;
  await client.send(new UpdateIPSetCommand({ ...id, Addresses: [...addresses], LockToken: current.LockToken }));
  return true;
};
