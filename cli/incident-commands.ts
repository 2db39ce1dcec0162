import { Option, type Command } from 'commander';
import { blockCommand, blocksCommand, disableCommand, enableCommand, unblockCommand } from './commands/containment.js';
import { rotateCommand } from './commands/rotate.js';
import type { CliContext } from './context.js';
import type { AwsClients } from './targets.js';

const stackOption = (): Option =>
  new Option('--stack <name>', 'act on a deployed stack (tables and WAF IP sets from its outputs; AWS credentials from the environment) instead of the local store');

/** Registers the incident-response commands: block, unblock, blocks, disable, enable, rotate. */
export const registerIncidentCommands = (program: Command, context: CliContext, exit: { code: number }, aws?: AwsClients): void => {
  program
    .command('block')
    .description('block an IP or CIDR (403 ip_blocked) for a while; with --stack also in the WAF IP set')
    .argument('<ip|cidr>', 'e.g. 203.0.113.7 or 2001:db8::/48')
    .requiredOption('--for <duration>', 'how long: 30m, 24h, 7d')
    .option('--reason <text>', 'why (shown by blocks)')
    .addOption(stackOption())
    .action(async (range: string, options) => {
      exit.code = await blockCommand(context, range, options, aws);
    });
  program
    .command('unblock')
    .description('lift a block (and remove it from the WAF IP set with --stack)')
    .argument('<ip|cidr>', 'as given to block')
    .addOption(stackOption())
    .action(async (range: string, options) => {
      exit.code = await unblockCommand(context, range, options, aws);
    });
  program
    .command('blocks')
    .description('list blocked addresses and disabled sources')
    .addOption(stackOption())
    .option('--json', 'print one JSON object: where, blocks, disabledSources')
    .action(async (options) => {
      exit.code = await blocksCommand(context, options, aws);
    });
  program
    .command('disable')
    .description('disable a source: it answers 503 source_disabled with Retry-After, so providers retry later')
    .argument('<source>', 'source name')
    .option('--reason <text>', 'why (shown by blocks)')
    .addOption(stackOption())
    .action(async (source: string, options) => {
      exit.code = await disableCommand(context, source, options, aws);
    });
  program
    .command('enable')
    .description('enable a disabled source again')
    .argument('<source>', 'source name')
    .addOption(stackOption())
    .action(async (source: string, options) => {
      exit.code = await enableCommand(context, source, options, aws);
    });

  program
    .command('rotate')
    .description("rotate a source's secret on a deployed stack: the new key first, the current ones valid for the overlap")
    .argument('<source>', 'source name')
    .addOption(stackOption())
    .option('--overlap <duration>', 'how long the current keys stay valid: 30m, 24h, 7d', '24h')
    .option('--secret-env <NAME>', "the provider's new secret, from this environment variable (default: generate one and print it once)")
    .action(async (source: string, options) => {
      exit.code = await rotateCommand(context, source, options, aws);
    });
};
