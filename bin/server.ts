// `npm start`: Hookwarden on one machine (dynalite + the Lambda handlers over HTTP).
import '../local/quiet-aws-sdk';
import { ConfigError } from '../functions/shared/errors';
import { output } from '../cli/output';
import { bannerLines } from '../local/banner';
import { StoreInUseError } from '../local/dynamo';
import { startLocal } from '../local/index';

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
        output.error(`error while stopping: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
};

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StoreInUseError) output.error(error.message);
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') output.error(`Port in use: ${(error as Error).message}. Set PORT to another port.`);
  else output.error(`Hookwarden failed to start: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
