import { type CliContext, UsageError } from '../context.js';
import { output } from '../output.js';
import { withContainmentTarget, type AwsClients, type ContainmentTarget } from '../targets.js';
import { reasonOf, TAKES_EFFECT, type TargetOptions } from './containment.js';

const knownSource = (target: ContainmentTarget, source: string): void => {
  if (target.sources.size > 0 && !target.sources.has(source)) {
    throw new UsageError(`unknown source "${source}" in ${target.where} (configured: ${[...target.sources].join(', ')})`);
  }
};

/** `hookwarden disable <source>`: answers 503 source_disabled with Retry-After, so providers retry later. */
export const disableCommand = async (
  context: CliContext,
  source: string,
  options: TargetOptions & { reason?: string },
  aws?: AwsClients,
): Promise<number> => {
  const reason = reasonOf(options.reason, 'disabled from the command line');
  return withContainmentTarget(
    context,
    options.stack,
    async (target) => {
      knownSource(target, source);
      await target.controls.disable(source, reason, Math.floor(Date.now() / 1000));
      output.line(`disabled source ${source} in ${target.where}: it answers 503 with Retry-After, providers retry later; ${TAKES_EFFECT}`);
      return 0;
    },
    aws,
  );
};

/** `hookwarden enable <source>`. */
export const enableCommand = async (context: CliContext, source: string, options: TargetOptions, aws?: AwsClients): Promise<number> =>
  withContainmentTarget(
    context,
    options.stack,
    async (target) => {
      knownSource(target, source);
      const changed = await target.controls.enable(source);
      output.line(
        changed ? `enabled source ${source} in ${target.where}; ${TAKES_EFFECT}` : `source ${source} was not disabled in ${target.where}`,
      );
      return 0;
    },
    aws,
  );
