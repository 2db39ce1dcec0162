import { GetIPSetCommand, UpdateIPSetCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';
import { canonicalRange, type Address } from '../core/net.js';
import { isUnavailable } from '../core/stores/dynamodb-errors.js';

/** `arn:aws:wafv2:<region>:<account>:regional/ipset/<name>/<id>` → name and id. */
const parseIpSetArn = (arn: string): { Name: string; Id: string; Scope: 'REGIONAL' | 'CLOUDFRONT' } => {
  const match = /:(regional|global)\/ipset\/([^/]+)\/([^/]+)$/.exec(arn);
  if (!match) throw new Error(`not a WAF IP set ARN: ${arn}`);
  return { Name: match[2] as string, Id: match[3] as string, Scope: match[1] === 'global' ? 'CLOUDFRONT' : 'REGIONAL' };
};

/** The IP set's name for people (`FirewallBlockedIpv4-abc`), or the ARN as given when it is not an IP set's. */
export const ipSetName = (arn: string): string => /:(?:regional|global)\/ipset\/([^/]+)\/[^/]+$/.exec(arn)?.[1] ?? arn;

/** WAF wants CIDR notation: a single address (`range` as the blocklist spells it) becomes /32 or /128. */
export const wafCidr = (range: string, address: Address): string =>
  range.includes('/') ? range : `${range}/${address.family === 'ipv4' ? 32 : 128}`;

/** The members of a WAF IP set, as WAF holds them. */
export const readIpSet = async (client: WAFV2Client, arn: string): Promise<readonly string[]> =>
  (await client.send(new GetIPSetCommand(parseIpSetArn(arn)))).IPSet?.Addresses ?? [];

/** How many times a change is recomputed on a fresh read when the set changed between our read and our write. */
export const IP_SET_ATTEMPTS = 5;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Adds or removes one CIDR in a WAF IP set: read, change, write with the lock
 * token WAF requires, so a concurrent change is not overwritten. When WAF
 * refuses the token (WAFOptimisticLockException: another operator wrote the set
 * since our read, or our own write was applied and the SDK retried it after its
 * answer was lost), the change is recomputed on a fresh read, up to
 * {@link IP_SET_ATTEMPTS} times: adding or removing one member is safe to redo,
 * and a set that already holds the desired state needs no write.
 * @returns whether the set changed (here, or concurrently to the same end) since the first read
 * @throws the SDK's error when WAF refuses for another reason, or the lock after the last attempt
 */
export const updateIpSet = async (client: WAFV2Client, arn: string, cidr: string, change: 'add' | 'remove'): Promise<boolean> => {
  const id = parseIpSetArn(arn);
  const wanted = canonicalRange(cidr) ?? cidr;
  let changing = false;
  for (let attempt = 1; ; attempt++) {
    const current = await client.send(new GetIPSetCommand(id));
    const addresses = current.IPSet?.Addresses ?? [];
    // A member added by hand may be spelled otherwise (`2001:DB8:0:0:0:0:0:A/128`): it is the same range.
    const others = addresses.filter((member) => (canonicalRange(member) ?? member) !== wanted);
    const present = others.length < addresses.length;
    if (present === (change === 'add')) return changing;
    changing = true;
    const next = change === 'add' ? [...others, cidr] : others;
    try {
      await client.send(new UpdateIPSetCommand({ ...id, Addresses: next, LockToken: current.LockToken }));
      return true;
    } catch (error) {
      if ((error as Error).name !== 'WAFOptimisticLockException' || attempt >= IP_SET_ATTEMPTS) throw error;
      // Two operators retrying in step would collide again: a short random pause spreads them.
      await pause(Math.random() * 100 * attempt);
    }
  }
};

/** A failed read of the table by {@link matchIpSet}, kept apart from WAF's own errors; `cause` is the store's error. */
export class TableReadFailed extends Error {
  override readonly name = 'TableReadFailed';
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
  }
}

/**
 * Makes a WAF IP set hold one CIDR exactly when the table blocks it, after this command wrote the
 * table: the set is read, then the table (`inTable`); when they disagree the set is written with the
 * lock token of that read, and the table is read again after the write, until the set (as last read
 * or written) and a later read of the table agree.
 *
 * Why: a block writes the table then the set, an unblock the set then the table, so when both run at
 * once the table can end with the last one's word and the set with the other's (blocked at the edge
 * only). With every command ending here, the last write of the set is always followed by a read of
 * the table, and the last write of the table by a read of the set then the table, so once the
 * commands are done the two agree, on the table's last word. A write refused for its lock token
 * starts again from a fresh read, up to {@link IP_SET_ATTEMPTS} writes.
 * @param inTable whether the table blocks the CIDR now (a consistent read)
 * @returns member: whether the set holds it at the end (what the table said last); changed: whether this call wrote the set (or a write whose answer was lost, or one another operator made to the same end)
 * @throws TableReadFailed when `inTable` fails; the SDK's error when WAF refuses for another reason than the lock token, or the lock after the last attempt
 */
export const matchIpSet = async (
  client: WAFV2Client,
  arn: string,
  cidr: string,
  inTable: () => Promise<boolean>,
): Promise<{ member: boolean; changed: boolean }> => {
  const id = parseIpSetArn(arn);
  const wanted = canonicalRange(cidr) ?? cidr;
  const read = async (): Promise<{ others: string[]; member: boolean; lockToken: string | undefined }> => {
    const current = await client.send(new GetIPSetCommand(id));
    const addresses = current.IPSet?.Addresses ?? [];
    const others = addresses.filter((member) => (canonicalRange(member) ?? member) !== wanted);
    return { others, member: others.length < addresses.length, lockToken: current.LockToken };
  };
  let set = await read();
  let changed = false;
  let refused: unknown;
  for (let writes = 0; ; writes++) {
    const blocked = await inTable().catch((error: unknown) => {
      throw new TableReadFailed(error);
    });
    if (set.member === blocked) return { member: blocked, changed };
    if (writes >= IP_SET_ATTEMPTS)
      throw (
        refused ??
        new Error(`the table changed after each of ${IP_SET_ATTEMPTS} writes of the set (operators keep blocking and unblocking it)`)
      );
    changed = true;
    try {
      const written = await client.send(
        new UpdateIPSetCommand({ ...id, Addresses: blocked ? [...set.others, cidr] : set.others, LockToken: set.lockToken }),
      );
      set = { others: set.others, member: blocked, lockToken: written.NextLockToken };
      refused = undefined;
    } catch (error) {
      if ((error as Error).name !== 'WAFOptimisticLockException') throw error;
      refused = error;
      await pause(Math.random() * 100 * (writes + 1));
      set = await read();
    }
  }
};

/** Why {@link updateIpSet} failed, in an operator's words (the SDK's own message where there is nothing to add). */
export const ipSetProblem = (error: unknown): string => {
  const { name, message } = error as Error;
  if (name === 'WAFOptimisticLockException')
    return `the set changed between every read and write, ${IP_SET_ATTEMPTS} times (other operators or automation are writing it)`;
  if (name === 'WAFLimitsExceededException')
    return 'the set is full (WAF allows 10,000 addresses in an IP set): unblock addresses no longer needed, or block a wider range';
  if (name === 'WAFNonexistentItemException') return "the IP set does not exist (was the stack's WAF removed?)";
  if (name === 'WAFUnavailableEntityException' || isUnavailable(error)) return `WAF is throttling or unavailable (${message}); try again`;
  return message;
};
