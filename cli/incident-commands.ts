import { Option, type Command } from 'commander';
import type { CliContext } from './context.js';
import { stackName } from './stack-name.js';
import type { AwsClients } from './targets.js';

/** `--stack`, saying what the command reads from the stack's outputs. */
const stackOption = (reads = 'tables and WAF IP sets'): Option =>
  new Option(
    '--stack <name>',
    `act on a deployed stack (${reads} from its outputs; AWS credentials from the environment) instead of the local store`,
  ).argParser(stackName);

/** The longest `--reason` of block and disable: every block and disabled source keeps its reason in one item, which DynamoDB caps at 400 KB. */
export const MAX_REASON_CHARACTERS = 500;

/** Registers the incident-response commands: block, unblock, blocks, disable, enable, rotate, keys. */
export const registerIncidentCommands = (program: Command, context: CliContext, exit: { code: number }, aws?: AwsClients): void => {
  program
    .command('block')
    .description('block an IP or CIDR (403 ip_blocked) for a while; with --stack also in the WAF IP set')
    .argument('<ip|cidr>', 'e.g. 203.0.113.7 or 2001:db8::/48')
    .requiredOption('--for <duration>', 'how long: 30m, 24h, 7d')
    .option('--reason <text>', `why (shown by blocks; at most ${MAX_REASON_CHARACTERS} characters)`)
    .addOption(stackOption())
    .action(async (range: string, options) => {
      exit.code = await (await import('./commands/containment.js')).blockCommand(context, range, options, aws);
    });
  program
    .command('unblock')
    .description('lift a block (and remove it from the WAF IP set with --stack)')
    .argument('<ip|cidr>', 'as given to block')
    .addOption(stackOption())
    .action(async (range: string, options) => {
      exit.code = await (await import('./commands/containment.js')).unblockCommand(context, range, options, aws);
    });
  program
    .command('blocks')
    .description('list blocked addresses and disabled sources (with --stack also what the WAF IP sets drop)')
    .addOption(stackOption())
    .option(
      '--json',
      'print one JSON object: where, blocks, disabledSources, and with --stack on a stack with WAF: edge (the members of the IP sets read) and unread (each IP set that could not be read: set, arn, reason; then the exit code is 1)',
    )
    .action(async (options) => {
      exit.code = await (await import('./commands/blocks.js')).blocksCommand(context, options, aws);
    });
  program
    .command('disable')
    .description('disable a source: it answers 503 source_disabled with Retry-After, so providers retry later')
    .argument('<source>', 'source name')
    .option('--reason <text>', `why (shown by blocks; at most ${MAX_REASON_CHARACTERS} characters)`)
    .addOption(stackOption())
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/disable.js')).disableCommand(context, source, options, aws);
    });
  program
    .command('enable')
    .description('enable a disabled source again')
    .argument('<source>', 'source name')
    .addOption(stackOption())
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/disable.js')).enableCommand(context, source, options, aws);
    });

  program
    .command('rotate')
    .description(
      "rotate a source's secret, on the local store (the key document in the data directory) or a deployed stack: github and shared sources switch to the staged key (GitHub through its API, then a ping) and stage the next; manual sources take the provider's new key; the previous key stays valid for the overlap. Locally one rotate of a source runs at a time (it holds <key file>.lock; one left by a process gone from this machine is taken over)",
    )
    .argument('<source>', 'source name')
    .addOption(stackOption("the source's Secrets Manager secret"))
    .option(
      '--overlap <duration>',
      "how long the previous keys stay valid: 30m, 24h, 7d (default: the source's rotation overlap, 24h; with --stack, manual sources only: the rotation function keeps the deployed overlap); github and shared sources keep them up to a quarter of it more (github at least 60 s more, the time GitHub's switch and ping may take), 5 minutes at most: the time a rotation has from its plan to its promotion",
    )
    .option(
      '--secret-env <NAME>',
      "manual sources: the provider's new secret, from this environment variable (with --stack and none given: generate one and print it once)",
    )
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/rotate.js')).rotateCommand(context, source, options, aws);
    });
  program
    .command('keys')
    .description("list a source's keys: id, role (current, next, previous, expired), age and expiry; never a value")
    .argument('<source>', 'source name')
    .addOption(stackOption("the source's Secrets Manager secret"))
    .option('--json', 'print one JSON object: source, where, keys')
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/keys.js')).keysCommand(context, source, options, aws);
    });
};
