// `npm start`: Hookwarden on one machine (dynalite + the Lambda handlers over HTTP).
import '../local/quiet-aws-sdk.js';
import { ConfigError } from '../core/errors.js';
import { configMessage } from '../cli/context.js';
import { output } from '../cli/output.js';
import { bannerLines } from '../local/banner.js';
import { StoreInUseError } from '../local/dynamo.js';
import { startLocal } from '../local/index.js';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const main = async (): Promise<void> => {
  const local = await startLocal();
  for (const line of bannerLines(local)) output.line(line);
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
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
};

// The same voice as the command line: `hookwarden: ` and a lower-case message.
main().catch((error: unknown) => {
  if (error instanceof ConfigError) output.error(`hookwarden: ${configMessage(error)}`);
  else if (error instanceof StoreInUseError) output.error(`hookwarden: ${error.message}`);
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
    output.error(`hookwarden: port ${process.env.PORT || 3000} is in use: set PORT to another port (PORT=0 picks a free one)`);
  else output.error(`hookwarden: failed to start: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
