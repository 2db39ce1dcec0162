import { InvalidArgumentError, Option, type Command } from 'commander';
import { fetchBlockedPort, fetchBlockedPortReason } from '../local/fetch-ports.js';
import type { CliContext } from './context.js';
import { LONG_SEGMENT_CHARS, MIXED_SEGMENT_CHARS } from './shown-url.js';
import { stackName } from './stack-name.js';
import type { AwsClients } from './targets.js';

/** `--to` / `--forward-to`: an absolute http(s) URL, kept exactly as given. */
export const receiverUrl = (value: string): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('Expected an http(s) URL such as http://127.0.0.1:8080/webhooks.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('Expected an http or https URL.');
  // As with credentials: every forward would fail ("bad port"), and listen would pass every delivery by.
  const blocked = fetchBlockedPort(url);
  if (blocked !== undefined) throw new InvalidArgumentError(`Expected a receiver on another port: ${fetchBlockedPortReason(blocked)}.`);
  // fetch refuses such a URL: every forward would fail, and listen would pass every delivery by.
  if (url.username !== '' || url.password !== '')
    throw new InvalidArgumentError('Expected a URL without user:password@ (fetch cannot send credentials in a URL).');
  return value;
};

/** How `replay` and `listen` print the receiver URL (`safeUrl`): said in their help, so that a `[redacted]` surprises nobody. */
const SHOWN_AS = `printed with every query value, and each path segment of ${LONG_SEGMENT_CHARS}+ characters or of ${MIXED_SEGMENT_CHARS}+ mixing letters and digits, as [redacted]`;

const stackOption = (): Option =>
  new Option(
    '--stack <name>',
    'read from a deployed stack (API URL from its outputs) instead of the running local server; needs --token-env',
  ).argParser(stackName);
const tokenEnvOption = (): Option =>
  new Option(
    '--token-env <NAME>',
    'the environment variable holding a read token (default locally: the development token npm start keeps)',
  );

/** Registers the consumers of the deliveries API: `replay`, `tail` and `listen`. */
export const registerConsumerCommands = (program: Command, context: CliContext, exit: { code: number }, aws?: AwsClients): void => {
  program
    .command('replay')
    .description(
      'send one stored delivery again: its original body bytes and kept headers, plus Hookwarden-Source and Hookwarden-Delivery-Id, POSTed to --to; print the status (exit 1 unless 2xx)',
    )
    .argument('<source>', 'source name')
    .argument('<id>', 'delivery id, as GET /deliveries or hookwarden deliveries shows it')
    .requiredOption('--to <url>', `where to POST it (${SHOWN_AS})`, receiverUrl)
    .addOption(stackOption())
    .addOption(tokenEnvOption())
    .option('--json', 'print one JSON object: source, id, to, status, statusText, bytes')
    .action(async (source: string, id: string, options) => {
      exit.code = await (await import('./commands/replay.js')).replayCommand(context, source, id, options, aws);
    });

  program
    .command('tail')
    .description(
      'print one line per delivery as it is stored (GET /events), until Ctrl+C; reconnects with Last-Event-ID after a dropped connection',
    )
    .option('--source <name>', 'only this source (one that is not configured is refused: 404 source_unknown)')
    .addOption(stackOption())
    .addOption(tokenEnvOption())
    .option('--json', 'one JSON object per line: source, id, receivedAt, eventType, size')
    .action(async (options) => {
      exit.code = await (await import('./commands/stream.js')).tailCommand(context, options, aws);
    });

  program
    .command('listen')
    .description(
      'forward each delivery as it is stored to --forward-to, like replay (original body bytes, kept headers, Hookwarden-Source, Hookwarden-Delivery-Id), in order; one line per forward with the status; reconnects with Last-Event-ID without skipping or repeating; Ctrl+C stops it (exit 0)',
    )
    .requiredOption('--forward-to <url>', `where to POST each delivery (${SHOWN_AS})`, receiverUrl)
    .option('--source <name>', 'only this source (one that is not configured is refused: 404 source_unknown)')
    .addOption(stackOption())
    .addOption(tokenEnvOption())
    .option('--json', 'one JSON object per forward: source, id, receivedAt, to, status and statusText (or error)')
    .action(async (options) => {
      exit.code = await (await import('./commands/stream.js')).listenCommand(context, options, aws);
    });
};
