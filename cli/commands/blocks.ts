import type { Controls } from '../../core/stores/controls-store.js';
import { CommandFailed, type CliContext } from '../context.js';
import { output } from '../output.js';
import { terminalSafe } from '../terminal.js';
import { tableProblem, withContainmentTarget, type AwsClients, type ContainmentTarget } from '../targets.js';
import { ipSetName, ipSetProblem, readIpSet } from '../waf.js';
import type { TargetOptions } from './containment.js';

/** A WAF IP set `blocks` could not read: its name, its ARN and why, in an operator's words. */
interface UnreadSet {
  readonly set: string;
  readonly arn: string;
  readonly reason: string;
}

/** The controls table when `blocks --json` could not read it: its name and why (the error's message, never its stack). */
interface UnreadTable {
  readonly table: string;
  readonly reason: string;
}

/**
 * The members of the stack's WAF IP sets: they have no expiry, so an address stays dropped at the
 * edge after its block in the functions ended, until `unblock`. A set that cannot be read is named
 * in `unread` and the other is still read.
 */
const edgeMembers = async (target: ContainmentTarget): Promise<{ members: Array<{ range: string; set: string }>; unread: UnreadSet[] }> => {
  const members: Array<{ range: string; set: string }> = [];
  const unread: UnreadSet[] = [];
  for (const arn of [target.waf?.ipv4SetArn, target.waf?.ipv6SetArn]) {
    if (!target.waf || !arn) continue;
    try {
      members.push(...(await readIpSet(target.waf.client, arn)).map((range) => ({ range, set: ipSetName(arn) })));
    } catch (error) {
      unread.push({ set: ipSetName(arn), arn, reason: ipSetProblem(error) });
    }
  }
  return { members, unread };
};

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/**
 * `blocks --json`: what could be read is printed either way, so a script gets its document and the exit
 * code says whether it is complete. A table that cannot be read leaves `blocks` and `disabledSources`
 * null (not known: an empty list would say nothing is blocked) and is named in `unread`, before the sets.
 */
const printBlocksJson = async (target: ContainmentTarget): Promise<number> => {
  let controls: Controls | undefined;
  const unread: Array<UnreadTable | UnreadSet> = [];
  try {
    controls = await target.controls.load(Math.floor(Date.now() / 1000));
  } catch (error) {
    unread.push({ table: target.table, reason: tableProblem(error) });
  }
  const edge = await edgeMembers(target);
  unread.push(...edge.unread);
  output.json({
    where: target.where,
    blocks: controls?.blocks.map((b) => ({ range: b.range, until: iso(b.expiresAt), reason: b.reason })) ?? null,
    disabledSources: controls?.disabledSources.map((d) => ({ source: d.source, since: iso(d.since), reason: d.reason })) ?? null,
    ...(target.waf ? { edge: edge.members } : {}),
    ...(target.waf || unread.length > 0 ? { unread } : {}),
  });
  return unread.length > 0 ? 1 : 0;
};

/**
 * `hookwarden blocks`: the current blocks and disabled sources, and with `--stack` what the WAF IP sets drop.
 * `--json` prints one object; with WAF its `edge` lists the members read and `unread` the sets that could
 * not be read (exit 1 then, as the plain list exits 1 after naming them); a table that cannot be read is
 * in `unread` too, where the plain list fails naming it.
 */
export const blocksCommand = async (context: CliContext, options: TargetOptions & { json?: boolean }, aws?: AwsClients): Promise<number> =>
  withContainmentTarget(
    context,
    options.stack,
    async (target) => {
      if (options.json) return printBlocksJson(target);
      const controls = await target.controls.load(Math.floor(Date.now() / 1000));
      const edge = await edgeMembers(target);
      if (controls.blocks.length === 0 && edge.members.length === 0 && edge.unread.length === 0) output.line('no blocked addresses');
      for (const block of controls.blocks) output.line(terminalSafe(`${block.range}  until ${iso(block.expiresAt)}  ${block.reason}`));
      for (const member of edge.members)
        output.line(terminalSafe(`${member.range}  at the edge (WAF IP set ${member.set}, until unblock)`));
      for (const source of controls.disabledSources)
        output.line(terminalSafe(`source ${source.source} disabled since ${iso(source.since)}  ${source.reason}`));
      if (edge.unread.length > 0)
        throw new CommandFailed(
          `could not read ${edge.unread.map((u) => `the WAF IP set ${u.set} (${u.reason})`).join(' nor ')}: the addresses the edge drops are not listed`,
        );
      return 0;
    },
    aws,
  );
