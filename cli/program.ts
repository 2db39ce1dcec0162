import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { routeSdkLogs } from '../core/aws-client-settings.js';
import { SOURCE_NAME } from '../core/config/rules.js';
import { withoutSecrets } from '../core/redaction.js';
import { registerIncidentCommands } from './incident-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerConsumerCommands } from './consumer-commands.js';
import { cliContext, UsageError, type CliContext } from './context.js';
import { output } from './output.js';
import { withSafeUrls } from './shown-url.js';
import { terminalSafe } from './terminal.js';
import type { AwsClients } from './targets.js';

const HINT = '(run with --help for usage)';

const wholeNumber =
  (min: number, max: number, expected = `a whole number from ${min} to ${max}`) =>
  (value: string): number => {
    const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`Expected ${expected}.`);
    return n;
  };
// Milliseconds are accepted on purpose: signing one is how to test that the receiver refuses it.
const unixSeconds = wholeNumber(0, Number.MAX_SAFE_INTEGER, 'Unix seconds (a whole number)');

const baseUrl = (value: string): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('Expected an http(s) URL such as http://127.0.0.1:3000.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('Expected an http or https URL.');
  // `/webhooks/<source>` would land inside the query or fragment and the POST go to the base's own path.
  if (/[?#]/.test(value))
    throw new InvalidArgumentError('Expected a base URL without ?query or #fragment: /webhooks/<source> is appended to it.');
  // `<base>/webhooks/<source>` is appended: a trailing slash would double it.
  return value.replace(/\/+$/, '');
};

/**
 * What an HTTP header value can carry: tab, visible ASCII, space and Latin-1. CR and LF would end
 * the header (printed by `sign`, an injected line); fetch refuses them and anything above U+00FF.
 */
// eslint-disable-next-line no-control-regex -- the controls a header value cannot hold
const HEADER_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f\u0100-\uffff]*$/;
const HEADER_VALUE_EXPECTED = 'a header value (no CR, LF or other control characters, nothing above U+00FF)';

/** Headers of the connection, not of the request: fetch drops `Host` without a word and fails or hangs on the others. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const header = (value: string, previous: Array<[string, string]> = []): Array<[string, string]> => {
  const colon = value.indexOf(':');
  const name = value.slice(0, Math.max(colon, 0)).trim();
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new InvalidArgumentError('Expected "Name: value".');
  if (CONNECTION_HEADERS.has(name.toLowerCase()))
    throw new InvalidArgumentError(`Expected a header of the request: ${name} belongs to the connection, which sets it.`);
  const text = value.slice(colon + 1).trim();
  if (!HEADER_VALUE.test(text)) throw new InvalidArgumentError(`Expected "Name: value" with ${HEADER_VALUE_EXPECTED}.`);
  return [...previous, [name, text]];
};

// A name no source can have (`Stripe`) would list nothing and exit 0, as if the source had no deliveries: refused, as the API refuses it (source_invalid).
const sourceName = (value: string): string => {
  if (!SOURCE_NAME.test(value))
    throw new InvalidArgumentError(
      'Expected a source name: 1 to 63 lower-case letters, digits, "-" and "_", starting with a letter or digit.',
    );
  return value;
};

const deliveryId = (value: string): string => {
  if (!HEADER_VALUE.test(value)) throw new InvalidArgumentError(`Expected ${HEADER_VALUE_EXPECTED}.`);
  return value;
};

const dataOption = (): Option => new Option('--data <text>', 'the body (default: a sample payload for the scheme)').conflicts('file');
const fileOption = (): Option => new Option('--file <path>', 'read the body from a file, as raw bytes');
const secretEnvOption = (): Option =>
  new Option('--secret-env <NAME>', 'use the secret(s) in this environment variable (comma-separated) instead of the configured ones');
const idOption = (): Option =>
  new Option('--id <id>', 'delivery id, for schemes that send one in a header (default: a random id)').argParser(deliveryId);
const timestampOption = (): Option =>
  new Option('--timestamp <unix-seconds>', 'time to sign, for schemes that sign one (default: now)').argParser(unixSeconds);

/** The package's version: package.json is one level up from cli/ in the repository, two from dist/cli/ in the package. */
const version = (): string => {
  const url = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find((candidate) =>
    existsSync(candidate),
  );
  return url ? (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version : 'unknown';
};

// Commander wraps descriptions itself: one line per paragraph.
const ABOUT = [
  'Act as a webhook provider against Hookwarden, check captured requests, read the local store, contain an incident (block addresses, disable sources), rotate keys, manage read tokens, and follow, replay or forward deliveries, locally or on a deployed stack.',
  'Sources, schemes and secrets come from the same configuration as the server (WEBHOOK_* variables, or hookwarden.config.json / HOOKWARDEN_CONFIG); a source without a secret signs with the current key of the key document npm start keeps for it in the data directory (keys/<source>.json), and verify accepts every key of it the server accepts.',
].join('\n\n');

// Help text added after is printed as is: lines kept under 80 columns by hand.
const FOOTER = `
Environment:
  HOOKWARDEN_DATA_DIR  npm start's data directory: keys/, dev-secrets.json,
                       dev-token, server.json and the store (default:
                       ./.hookwarden)
  PORT                 the port send and sign --curl use when no local server is
                       running (default: 3000)

Exit codes: 0 success; 1 the command did not succeed (invalid signature,
non-2xx answer, unreachable, not found); 2 bad usage or configuration.
A command that fails before it has a result writes its message to standard
error and nothing to standard output, with --json too.`;

/**
 * Builds the `hookwarden` program. Actions store their exit code in `exit.code`;
 * nothing here exits the process, so tests can drive it.
 */
export const createProgram = (context: CliContext, exit: { code: number }, aws?: AwsClients): Command => {
  const program = new Command('hookwarden')
    .description(ABOUT)
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    // Options belong to the command they follow (`deliveries show … --json` is show's, not the list's).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: output.write,
      writeErr: output.writeError,
      // One voice for every usage error, commander's and ours. Commander quotes the argument it refused as typed: escaped,
      // and without a credential it carries (a token pasted as a source name; a URL shown as replay and listen show a
      // receiver's: its query values and a token in its path too, `--to https://host:6000/T0/B0/<token>` on a bad port).
      outputError: (text, write) =>
        write(terminalSafe(withoutSecrets(withSafeUrls(text.replace(/^error: /, 'hookwarden: ')), []), { layout: true })),
    })
    .showHelpAfterError(HINT)
    .addHelpText('after', FOOTER);

  program
    .command('sign')
    .description("print the headers a provider would send for a body, one 'Name: value' per line, signed with the source's first secret")
    .argument('<source>', 'configured source name, e.g. default')
    .addOption(dataOption())
    .addOption(fileOption())
    .addOption(idOption())
    .addOption(timestampOption())
    .option('--curl', 'print a ready-to-run curl command instead')
    .option('--url <base>', 'base URL for --curl (default: the running local server, else http://127.0.0.1:$PORT)', baseUrl)
    .addOption(secretEnvOption())
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/sign.js')).signCommand(context, source, options);
    });

  program
    .command('send')
    .description(
      "sign a body like the provider and POST it to <base>/webhooks/<source>; say which secret signed it (stderr), print the status line and the response body, and a development server's reason for a refusal (exit 1 unless 2xx; exit 2 when the running local server verifies with another source, scheme or secret)",
    )
    .argument('<source>', 'configured source name')
    .addOption(dataOption())
    .addOption(fileOption())
    .addOption(idOption())
    .addOption(timestampOption())
    .option('--url <base>', 'base URL (default: the running local server, else http://127.0.0.1:$PORT)', baseUrl)
    .option(
      '-H, --header <name:value>',
      'an extra header, replacing a signed one of the same name (repeatable; not Host, Content-Length or another connection header)',
      header,
    )
    .addOption(secretEnvOption())
    .option('--json', 'print one JSON object: url, status, statusText, signedWith, body, reason')
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/send.js')).sendCommand(context, source, options);
    });

  program
    .command('verify')
    .description("check a captured request against the source's secrets and time tolerance; print valid or invalid (exit 1 when invalid)")
    .argument('<source>', 'configured source name')
    .requiredOption(
      '--headers <file>',
      "'Name: value' lines (# comments and a leading request line skipped) or a JSON object of name to value(s)",
    )
    .requiredOption('--body <file>', 'the body, read as raw bytes')
    .option('--now <unix-seconds>', 'check the signed timestamp against this time (default: now)', unixSeconds)
    .addOption(secretEnvOption())
    .option(
      '--json',
      'print one JSON object: valid, deliveryId and eventType, or code and reason; and secrets, where the secrets tried came from (never a value)',
    )
    .action(async (source: string, options) => {
      exit.code = await (await import('./commands/verify.js')).verifyCommand(context, source, options);
    });

  const deliveries = program
    .command('deliveries')
    .description('list the deliveries stored in the local store, newest first (through the running server if there is one)')
    .option('--source <name>', 'only this source (one neither configured nor stored is refused as unknown)', sourceName)
    .option('--limit <n>', 'at most this many', wholeNumber(1, 10_000), 20)
    .option(
      '--json',
      'print a JSON array (without bodies): source, id, receivedAt, eventType, size as GET /deliveries names them, then status, leaseExpiresAt (a delivery still processing), damaged (why a stored body cannot be read whole; only then), providerId (an id the signature does not cover), clientIp, headers, expiresAt',
    )
    .enablePositionalOptions()
    .action(async (options) => {
      exit.code = await (await import('./commands/deliveries.js')).listDeliveriesCommand(context, options);
    });
  deliveries
    .command('show')
    .description('show one stored delivery: summary and kept headers (control characters from the request escaped)')
    .argument('<source>', 'source name')
    .argument('<id>', "delivery id: the replay key, or the provider's own id (X-GitHub-Delivery, ...)")
    .option(
      '--body',
      'write exactly the stored body bytes to stdout (the summary goes to stderr); on a terminal, with control characters escaped',
    )
    .option(
      '--json',
      'print one JSON object, named as deliveries --json (with --body, the body as body, plus bodyEncoding "base64" when not UTF-8)',
    )
    .action(async (source: string, id: string, options) => {
      exit.code = await (await import('./commands/deliveries.js')).showDeliveryCommand(context, source, id, options);
    });

  registerIncidentCommands(program, context, exit, aws);
  registerTokenCommands(program, context, exit, aws);
  registerConsumerCommands(program, context, exit, aws);
  refuseRepeatedOptions(program);

  return program;
};

/** Options that collect every occurrence. */
const REPEATABLE = new Set(['--header']);

/**
 * An option that takes one value, given twice (`--data a --data b`, often a pasted line plus an
 * edit), is refused: commander keeps the last and drops the other without a word, so the command
 * would sign, send or list something other than what one of them said.
 */
const refuseRepeatedOptions = (command: Command): void => {
  const given = new Set<string>();
  for (const option of command.options) {
    if (!(option.required || option.optional) || option.variadic || REPEATABLE.has(option.long ?? '')) continue;
    command.on(`option:${option.name()}`, () => {
      if (given.has(option.name()))
        command.error(`error: option '${option.flags}' given more than once: give it once`, { exitCode: 2, code: 'hookwarden.repeated' });
      given.add(option.name());
    });
  }
  for (const sub of command.commands) refuseRepeatedOptions(sub);
};

/**
 * Runs the command line; never exits the process.
 * @param argv as in `process.argv` (node, script, arguments...)
 * @param aws AWS clients for `--stack` (tests inject mocks)
 * @returns the exit code: 0 success, 1 the command did not succeed, 2 bad usage (message on stderr)
 * @example process.exitCode = await run(process.argv);
 */
export const run = async (argv: readonly string[], context: CliContext = cliContext(), aws?: AwsClients): Promise<number> => {
  // The AWS SDK's own lines (its sockets at capacity) are problems, not results: standard error, escaped.
  routeSdkLogs((level, message) => output.error(terminalSafe(`hookwarden: AWS SDK ${level}: ${message}`, { layout: true })));
  const exit = { code: 0 };
  const program = createProgram(context, exit, aws);
  try {
    await program.parseAsync([...argv]);
    return exit.code;
  } catch (error) {
    // Commander has printed its message already; exit code 0 is --help, help or --version.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    // Messages quote arguments, paths and answers as they came; line feeds kept for multi-line ones (configuration problems).
    // A quoted argument may be a secret pasted in the wrong place (`--secret-env whsec_…`, a token as a source name): left out.
    output.error(terminalSafe(withoutSecrets(`hookwarden: ${(error as Error).message}`, []), { layout: true }));
    if (error instanceof UsageError) {
      output.error(HINT);
      return 2;
    }
    return 1;
  }
};
