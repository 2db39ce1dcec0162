import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Who named a resource: the construct's path and the prop that sets the name. */
interface Claim {
  readonly path: string;
  readonly prop: string;
}

/** Per stack, each name claimed (`<kind> "<name>"`) and by whom. */
const claims = new WeakMap<Stack, Map<string, Claim[]>>();

/** One line per name claimed more than once. */
const collisions = (names: ReadonlyMap<string, readonly Claim[]>): string[] =>
  [...names]
    .filter(([, by]) => by.length > 1)
    .map(
      ([name, by]) =>
        `${by.length} resources of this stack would have the ${name} (${by.map((claim) => `${claim.path}, from ${claim.prop}`).join('; ')}), which must be unique in the account and region: CloudFormation would fail the deploy. Give each construct its own ${[...new Set(by.map((claim) => claim.prop))].join(' or ')}`,
    );

/**
 * Records that `construct` gives a resource a name that must be unique in the account and region (a secret's, an
 * alarm's, a log group's). Names default to the stack's name, so two instances of a construct in one stack (a team
 * composing two sets of sources, two APIs) would collide, and CloudFormation would refuse the second resource midway
 * through the deploy ("already exists"). Instead the synth fails, naming every collision at once, the constructs and
 * the prop that sets each name.
 */
export const claimPhysicalName = (construct: IConstruct, kind: string, name: string, prop: string): void => {
  const stack = Stack.of(construct);
  let names = claims.get(stack);
  if (!names) {
    const created = new Map<string, Claim[]>();
    claims.set(stack, created);
    stack.node.addValidation({ validate: () => collisions(created) });
    names = created;
  }
  const key = `${kind} "${name}"`;
  names.set(key, [...(names.get(key) ?? []), { path: construct.node.path, prop }]);
};
