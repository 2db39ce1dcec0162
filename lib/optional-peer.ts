import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** An optional peer dependency a feature needs is not installed; the message says what to install. */
export class MissingPeerError extends Error {
  override readonly name = 'MissingPeerError';
}

/**
 * Loads an optional peer dependency (a CommonJS package) when a feature first
 * needs it, so that installing `hookwarden` for its middleware never pulls it in.
 * @throws MissingPeerError naming the package and the feature when it is not installed
 * @example const { AwsSolutionsChecks } = requireOptionalPeer<typeof CdkNag>('cdk-nag', 'the Hookwarden CDK app (createApp)');
 */
export const requireOptionalPeer = <T>(name: string, feature: string): T => {
  try {
    return requireHere(name) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingPeerError(
      `${feature} needs the package "${name}", an optional peer dependency of hookwarden: npm install --save-dev ${name}`,
      { cause: error },
    );
  }
};
