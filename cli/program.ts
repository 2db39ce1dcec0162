import { Command, CommanderError, Option } from 'commander';
import { cliContext, CommandFailed, UsageError, wholeNumber, type CliContext } from './context';
import { listDeliveriesCommand, showDeliveryCommand } from './commands/deliveries';
import { blockCommand, blocksCommand, disableCommand, enableCommand, unblockCommand } from './commands/containment';
import { rotateCommand } from './commands/rotate';
import { sendCommand } from './commands/send';
import { signCommand } from './commands/sign';
import { verifyCommand } from './commands/verify';
import { output } from './output';
import type { AwsClients } from './targets';

const stackOption = () =>
  new Option('--stack <name>', 'act on a deployed stack (tables and WAF IP sets from its outputs; AWS credentials from the environment) instead of the local store');

const secretEnvOption = () => new Option('--secret-env <NAME>', 'read the secret(s) from this environment variable instead of the configuration');

/** Builds the `hookwarden` program; each action stores its exit code in `exit.code`. */
export const createProgram = (context: CliContext, exit: { code: number }, aws?: AwsClients): Command => {
  const program = new Command('hookwarden')
    .description(
      'Act as a webhook provider against Hookwarden, check captured requests, read the local store, and contain an incident\n(block addresses, disable sources) locally or on a deployed stack.\nConfiguration comes from the same environment variables and hookwarden.config.json as the server.',
    )
    .exitOverride()
    .configureOutput({ writeOut: output.write, writeErr: output.writeError })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('sign')
    .description('print the headers a provider would send for a body (signed with the source\'s first secret)')
    .argument('<source>', 'configured source name, e.g. default')
    .option('--data <text>', 'the body (default: a sample payload for the scheme)')
    .option('--file <path>', 'read the body from a file')
    .option('--id <id>', 'delivery id for schemes that send one in a header')
    .option('--timestamp <seconds>', 'Unix seconds to sign (default: now)', wholeNumber('--timestamp'))
    .option('--curl', 'print a ready-to-run curl command instead')
    .option('--url <base>', 'base URL for --curl (default: the running local server)')
    .addOption(secretEnvOption())
    .action((source: string, options) => {
      exit.code = signCommand(context, source, options);
    });

  program
    .command('send')
    .description('sign a body and POST it to /webhooks/<source>; print status and body; exit 1 on a non-2xx answer')
    .argument('<source>', 'configured source name')
    .option('--data <text>', 'the body (default: a sample payload for the scheme)')
    .option('--file <path>', 'read the body from a file')
    .option('--id <id>', 'delivery id for schemes that send one in a header (repeat it to test replay)')
    .option('--timestamp <seconds>', 'Unix seconds to sign (default: now)', wholeNumber('--timestamp'))
    .option('--url <base>', 'base URL (default: the running local server, else http://127.0.0.1:$PORT)')
    .option('-H, --header <name:value>', 'an extra header (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .addOption(secretEnvOption())
    .action(async (source: string, options) => {
      exit.code = await sendCommand(context, source, options);
    });

  program
    .command('verify')
    .description('check a captured request (headers file + body file) against the source\'s secrets; exit 1 when invalid')
    .argument('<source>', 'configured source name')
    .requiredOption('--headers <file>', '"Name: value" lines (an HTTP request line and # comments are skipped) or a JSON object')
    .requiredOption('--body <file>', 'the raw body bytes')
    .option('--now <seconds>', 'Unix seconds to check the timestamp against (default: now)', wholeNumber('--now'))
    .addOption(secretEnvOption())
    .action((source: string, options) => {
      exit.code = verifyCommand(context, source, options);
    });

  const deliveries = program
    .command('deliveries')
    .description('list stored deliveries in the local store, newest first (works while npm start runs)')
    .option('--source <name>', 'only this source')
    .option('--limit <n>', 'at most this many', wholeNumber('--limit'), 20)
    .option('--json', 'print JSON')
    .action(async (options) => {
      exit.code = await listDeliveriesCommand(context, options);
    });
  deliveries
    .command('show')
    .description('show one stored delivery')
    .argument('<source>', 'source name')
    .argument('<id>', 'delivery id')
    .option('--body', 'print the body too')
    .action(async (source: string, id: string, options) => {
      exit.code = await showDeliveryCommand(context, source, id, options);
    });

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

  return program;
};

/**
 * Runs the command line and returns its exit code: 0 success, 1 the command
 * did not succeed, 2 bad usage (with a message).
 */
export const run = async (argv: readonly string[], context: CliContext = cliContext(), aws?: AwsClients): Promise<number> => {
  const exit = { code: 0 };
  const program = createProgram(context, exit, aws);
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync([...argv]);
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? 0 : 2;
    }
    if (error instanceof UsageError) {
      output.error(`hookwarden: ${error.message}`);
      return 2;
    }
    if (error instanceof CommandFailed) {
      output.error(`hookwarden: ${error.message}`);
      return 1;
    }
    output.error(`hookwarden: ${(error as Error).message}`);
    return 1;
  }
};
