import { Validations, type App } from 'aws-cdk-lib';
import type * as CdkNag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { requireOptionalPeer } from './optional-peer.js';

/**
 * Runs cdk-nag's AwsSolutions pack on every synth of `app`: an unacknowledged
 * finding (error or warning) fails the synth. cdk-nag is an optional peer
 * dependency, loaded here only: the constructs themselves never need it.
 * @throws MissingPeerError when cdk-nag is not installed
 */
export const enableNag = (app: App): void => {
  const { AwsSolutionsChecks } = requireOptionalPeer<typeof CdkNag>('cdk-nag', 'cdk-nag checks (enableNag, createApp)');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
};

/**
 * Acknowledges one cdk-nag finding on one construct (and what it contains),
 * with the reason a security reviewer reads. Use the full finding id for rules
 * that report several (`AwsSolutions-IAM4[Policy::...]`).
 */
export const acknowledge = (construct: IConstruct, id: string, reason: string): void => {
  Validations.of(construct).acknowledge({ id, reason });
};
