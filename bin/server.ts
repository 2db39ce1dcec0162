// `npm start`: Hookwarden on one machine (dynalite + the Lambda handlers over HTTP).
import '../local/quiet-aws-sdk.js';
import { DEBUG_TRUE } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { withoutSecrets } from '../core/redaction.js';
import { configMessage } from '../cli/context.js';
import { output } from '../cli/output.js';
import { terminalSafe } from '../cli/terminal.js';
import { bannerLines } from '../local/banner.js';
import { StoreInUseError } from '../local/dynamo.js';
import { startLocal } from '../local/index.js';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

// `npm start | head`, or a `| tee` that Ctrl+C ends first: a reader that went away is no reason to crash before the
// store is closed and server.json removed. The server goes on, and stops, without its standard output.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const main = async (): Promise<void> => {
  const local = await startLocal();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    output.line(`${signal}: stopping`);
    local.close().then(
      () => process.exit(0),
      (error: unknown) => {
        output.error(`hookwarden: error while stopping: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  // Before the banner: whoever reads "Press Ctrl+C" may press it at once.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (const line of bannerLines(local)) output.line(line);
};

// The same voice as the command line: `hookwarden: ` and a lower-case message.
main().catch((error: unknown) => {
  if (error instanceof ConfigError) output.error(`hookwarden: ${configMessage(error)}`);
  else if (error instanceof StoreInUseError) output.error(`hookwarden: ${error.message}`);
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
    output.error(`hookwarden: port ${process.env.PORT || 3000} is in use: set PORT to another port (PORT=0 picks a free one)`);
  else {
    // As the command line prints a failure: its message, escaped, without anything secret-shaped it may quote (a
    // parser's message quotes the text it could not read). Where it failed is for whoever asks, with DEBUG=true.
    const shown = (text: string) => terminalSafe(withoutSecrets(text, []), { layout: true });
    output.error(shown(`hookwarden: failed to start: ${error instanceof Error ? error.message : String(error)}`));
    const stack = error instanceof Error ? error.stack : undefined;
    if (stack && DEBUG_TRUE.test(process.env.DEBUG ?? '')) output.error(shown(stack));
    else if (stack) output.error('hookwarden: run with DEBUG=true to print where it failed');
  }
  process.exit(1);
});
