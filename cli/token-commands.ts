import { Option, type Command } from 'commander';
import type { CliContext } from './context.js';
import { stackName } from './stack-name.js';
import type { AwsClients } from './targets.js';

const stackOption = (): Option =>
  new Option(
    '--stack <name>',
    'act on a deployed stack (tokens table from its outputs; AWS credentials from the environment) instead of the local store',
  ).argParser(stackName);

/** Registers `hookwarden token create|list|revoke` (read tokens for the deliveries API). */
export const registerTokenCommands = (program: Command, context: CliContext, exit: { code: number }, aws?: AwsClients): void => {
  const token = program
    .command('token')
    .description('read tokens for GET /deliveries and GET /events: create (printed once, only a hash stored), list, revoke');
  token
    .command('create')
    .description('create a read token and print it once (hwk_…)')
    .requiredOption('--name <label>', 'what the token is for (shown by token list)')
    .option('--ttl <duration>', 'how long it lives: 90m, 24h, 30d (up to 366d)', '30d')
    .option('--sources <a,b>', 'only these sources, at most 500 (default: every source)')
    .addOption(stackOption())
    .option('--json', 'print one JSON object, the token included')
    .action(async (options) => {
      exit.code = await (await import('./commands/tokens.js')).tokenCreateCommand(context, options, aws);
    });
  token
    .command('list')
    .description('list read tokens: id, name, sources, expiry, last use, status')
    .addOption(stackOption())
    .option('--json', 'print a JSON array')
    .action(async (options) => {
      exit.code = await (await import('./commands/tokens.js')).tokenListCommand(context, options, aws);
    });
  token
    .command('revoke')
    .description('revoke a read token (refused within 30 s)')
    .argument('<id>', 'the token id token list shows')
    .addOption(stackOption())
    .option('--json', 'print one JSON object')
    .action(async (id: string, options) => {
      exit.code = await (await import('./commands/tokens.js')).tokenRevokeCommand(context, id, options, aws);
    });
};
