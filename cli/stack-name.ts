import { InvalidArgumentError } from 'commander';

/** What CloudFormation takes as a stack: its name (a letter, then letters, digits and "-"; 128 at most) or its ARN. */
const STACK = /^(?:[A-Za-z][-A-Za-z0-9]{0,127}|arn:[!-~]+)$/;

/**
 * Parses `--stack`. An empty one (`--stack "$STACK"` with the variable unset) read as no `--stack` at all: the
 * command acted on the local store and exited 0, a block or a rotation meant for a deployed stack made on the laptop.
 * @throws InvalidArgumentError for anything CloudFormation would not take as a stack (exit 2)
 * @example stackName('Hookwarden-prod') // 'Hookwarden-prod'
 */
export const stackName = (value: string): string => {
  if (!STACK.test(value))
    throw new InvalidArgumentError(
      'Expected a CloudFormation stack name (a letter, then letters, digits and "-", 128 at most) or a stack ARN.',
    );
  return value;
};
