import { canonicalRange, describeInvalidRange, parseAddress } from '../../core/net.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { CommandFailed, UsageError, type CliContext } from '../context.js';
import { MAX_REASON_CHARACTERS } from '../incident-commands.js';
import { output } from '../output.js';
import { terminalSafe } from '../terminal.js';
import { tableProblem, withContainmentTarget, type AwsClients, type ContainmentTarget } from '../targets.js';
import { ipSetName, ipSetProblem, matchIpSet, readIpSet, TableReadFailed, updateIpSet, wafCidr } from '../waf.js';

const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Parses `90s`, `30m`, `24h`, `7d` (at most 366 days). */
export const parseDuration = (text: string): number => {
  const match = DURATION.exec(text.trim());
  const seconds = match ? Number(match[1]) * SECONDS[match[2] as keyof typeof SECONDS] : 0;
  if (seconds < 1 || seconds > 366 * 86_400) throw new UsageError(`--for "${text}": expected a duration like 30m, 24h or 7d (up to 366d)`);
  return seconds;
};

/** A validated IP or CIDR in its one spelling ({@link canonicalRange}: `2001:DB8:0::1/128` is `2001:db8::1`). */
export const parseRange = (text: string): { range: string; family: 'ipv4' | 'ipv6'; cidr: string } => {
  const problem = describeInvalidRange(text);
  if (problem) throw new UsageError(problem);
  const address = parseAddress(text.trim().split('/')[0] as string);
  const range = canonicalRange(text);
  if (!address || range === undefined) throw new UsageError(`"${text}" is not an IP address or CIDR range`);
  return { range, family: address.family, cidr: wafCidr(range, address) };
};

/**
 * `--reason` of block and disable, else the fallback. A pasted log as a reason filled the item, and every later
 * block failed (in the middle of an incident).
 * @throws UsageError for a longer one (not echoed: it is long)
 */
export const reasonOf = (reason: string | undefined, fallback: string): string => {
  if (reason === undefined) return fallback;
  if (reason.length > MAX_REASON_CHARACTERS)
    throw new UsageError(
      `--reason: at most ${MAX_REASON_CHARACTERS} characters, got ${reason.length} (every block and disabled source keeps its reason in one table item, 400 KB at most)`,
    );
  return reason;
};

/** How soon a change of the controls item reaches every function, as the containment commands say it. */
export const TAKES_EFFECT = 'takes effect within 30 s (functions cache the blocklist for 15 s)';

const wafSet = (target: ContainmentTarget, family: 'ipv4' | 'ipv6'): string | undefined =>
  family === 'ipv4' ? target.waf?.ipv4SetArn : target.waf?.ipv6SetArn;

/** Options shared by the containment commands. */
export interface TargetOptions {
  stack?: string;
}

/** Whether the table holds a block of `range` (canonical), expired or not: the edge keeps an address until unblock. */
const blockedInTable = async (target: ContainmentTarget, range: string): Promise<boolean> =>
  (await target.controls.load(0)).blocks.some((block) => canonicalRange(block.range) === range);

/** `hookwarden block <ip|cidr> --for 24h --reason "..."`. */
export const blockCommand = async (
  context: CliContext,
  text: string,
  options: TargetOptions & { for: string; reason?: string },
  aws?: AwsClients,
): Promise<number> => {
  const { range, family, cidr } = parseRange(text);
  // Every address of a family: WAF IP sets refuse /0, so with --stack it could only be half applied.
  if (range.endsWith('/0'))
    throw new UsageError(
      `${range} is every ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address, which a WAF IP set refuses: to refuse every delivery of a source, disable it (hookwarden disable <source>)`,
    );
  const seconds = parseDuration(options.for);
  const reason = reasonOf(options.reason, 'blocked from the command line');
  const now = Math.floor(Date.now() / 1000);
  return withContainmentTarget(
    context,
    options.stack,
    async (target) => {
      const wanted = { range, expiresAt: now + seconds, reason, createdAt: now };
      const inForce = await target.controls.block(wanted);
      const until = new Date(inForce.expiresAt * 1000).toISOString();
      output.line(
        inForce.expiresAt > wanted.expiresAt
          ? terminalSafe(
              `${range} was already blocked until ${until} in ${target.where} (${inForce.reason}): that longer block stays; to shorten it, unblock first`,
            )
          : `blocked ${range} until ${until} in ${target.where}; ${TAKES_EFFECT}`,
      );
      const arn = wafSet(target, family);
      if (target.waf && arn) {
        let edge: { member: boolean; changed: boolean };
        try {
          edge = await matchIpSet(target.waf.client, arn, cidr, () => blockedInTable(target, range));
        } catch (error) {
          if (error instanceof TableReadFailed) throw error.cause;
          throw new CommandFailed(
            `${cidr} was NOT added to the WAF IP set ${ipSetName(arn)}: ${ipSetProblem(error)}. ` +
              `The block above stands in the functions (403 ip_blocked), but the edge still lets ${range} reach Lambda: run the same block again to add it there`,
          );
        }
        if (!edge.member)
          throw new CommandFailed(
            `${range} is NOT blocked: an unblock of it ran at the same time and lifted the block above after this command wrote it, ` +
              `so ${cidr} is not in the WAF IP set ${ipSetName(arn)} either (the functions and the edge agree): run the same block again to block it`,
          );
        output.line(
          edge.changed
            ? `added ${cidr} to the WAF IP set (the edge drops it before Lambda runs; it stays there until unblock)`
            : `${cidr} was already in the WAF IP set (the edge drops it before Lambda runs; it stays there until unblock)`,
        );
      } else if (options.stack) {
        // A stage without WAF (the dev default, an HTTP API front door): the operator must not believe the edge drops it.
        const missing = outputKey(family === 'ipv4' ? 'blockedIpv4Set' : 'blockedIpv6Set');
        output.line(
          `stack ${options.stack} has no ${missing} output (${target.waf ? `no WAF IP set for ${family === 'ipv4' ? 'IPv4' : 'IPv6'}` : 'no WAF in front'}): only the functions refuse ${range}, no edge drops it`,
        );
      }
      return 0;
    },
    aws,
  );
};

/** Whether `wider` (any spelling) holds every address of `range` (canonical) and is another, wider range. */
const covers = (wider: string, range: string): boolean => {
  const outer = canonicalRange(wider);
  const [outerIp, outerPrefix] = outer?.split('/') ?? [];
  const [ip, prefix] = range.split('/') as [string, string | undefined];
  const family = parseAddress(ip)?.family;
  if (outer === undefined || outer === range || outerPrefix === undefined || parseAddress(outerIp as string)?.family !== family)
    return false;
  return Number(outerPrefix) < Number(prefix ?? (family === 'ipv4' ? 32 : 128)) && canonicalRange(`${ip}/${outerPrefix}`) === outer;
};

/** `hookwarden unblock <ip|cidr>`. */
export const unblockCommand = async (context: CliContext, text: string, options: TargetOptions, aws?: AwsClients): Promise<number> => {
  const { range, family, cidr } = parseRange(text);
  return withContainmentTarget(
    context,
    options.stack,
    async (target) => {
      // A block written in another spelling of the same range (by hand, or before ranges were canonical) is the same block;
      // an expired one too (the edge keeps an address until unblock, whatever the block's end).
      const now = Math.floor(Date.now() / 1000);
      const { blocks: all } = await target.controls.load(0);
      const blocks = all.filter((block) => block.expiresAt > now);
      const stored = all.map((block) => block.range).filter((key) => key !== range && canonicalRange(key) === range);
      // The edge first: if WAF refuses, nothing is lifted anywhere, which is simple to say and to retry.
      const arn = wafSet(target, family);
      let fromWaf = false;
      if (target.waf && arn) {
        try {
          fromWaf = await updateIpSet(target.waf.client, arn, cidr, 'remove');
        } catch (error) {
          throw new CommandFailed(
            `${range} is NOT unblocked: ${cidr} could not be removed from the WAF IP set ${ipSetName(arn)}: ${ipSetProblem(error)}. ` +
              `Nothing was lifted (any block in the functions stands too): run the same unblock again`,
          );
        }
      }
      let removals: boolean[];
      try {
        removals = await Promise.all([range, ...stored].map((key) => target.controls.unblock(key)));
      } catch (error) {
        if (!fromWaf) throw error;
        throw new CommandFailed(
          `${range} is only partly unblocked: removed ${cidr} from the WAF IP set, but the block in the functions of ${target.where} could not be lifted: ${tableProblem(error)}; they may still answer 403 ip_blocked; run the same unblock again`,
        );
      }
      if (target.waf && arn) {
        // A block of the same range running at the same time may have added it to the set after the removal above:
        // the set is made to agree with the table (see matchIpSet), and a block written after this one's lift wins.
        let edge: { member: boolean; changed: boolean };
        try {
          edge = await matchIpSet(target.waf.client, arn, cidr, () => blockedInTable(target, range));
        } catch (error) {
          if (error instanceof TableReadFailed) throw error.cause;
          throw new CommandFailed(
            `${range} is unblocked in the functions of ${target.where}, but the WAF IP set ${ipSetName(arn)} could not be checked again for a block made at the same time: ${ipSetProblem(error)}; ` +
              `run the same unblock again (or see blocks --stack)`,
          );
        }
        if (edge.member) {
          const again = (await target.controls.load(0)).blocks.find((block) => canonicalRange(block.range) === range);
          throw new CommandFailed(
            terminalSafe(
              `${range} is blocked again: a block of it ran at the same time and was written in the functions after this command lifted it` +
                `${again ? ` (until ${new Date(again.expiresAt * 1000).toISOString()}, ${again.reason})` : ''}, ` +
                `so ${cidr} is in the WAF IP set ${ipSetName(arn)} too (the functions and the edge agree): run the same unblock again to lift it`,
            ),
          );
        }
        fromWaf ||= edge.changed;
      }
      const removed = removals.includes(true);
      output.line(
        removed || fromWaf ? `unblocked ${range} in ${target.where}; ${TAKES_EFFECT}` : `${range} was not blocked in ${target.where}`,
      );
      // A wider block still holds the address: "unblocked" (or "was not blocked") alone would say the client is let in.
      const wider = blocks
        .filter((block) => covers(block.range, range))
        .map((block) => `${block.range} (in the functions until ${new Date(block.expiresAt * 1000).toISOString()})`);
      if (target.waf && arn) {
        // Best effort: the unblock is done; a set that cannot be read now is listed (or named) by blocks --stack.
        const members = await readIpSet(target.waf.client, arn).catch(() => []);
        wider.push(
          ...members.filter((member) => covers(member, range)).map((member) => `${member} (at the edge, WAF IP set ${ipSetName(arn)})`),
        );
      }
      if (wider.length > 0) output.line(terminalSafe(`${range} stays blocked by ${wider.join(' and ')}: unblock that range to let it in`));
      return 0;
    },
    aws,
  );
};
