import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { stackName } from '../../lib/app.js';
import { HookwardenStack } from '../../lib/hookwarden-stack.js';
import { enableNag } from '../../lib/nag.js';
import { PROD_RESERVED_CONCURRENCY, type DeployedSource, type DeploymentSettings } from '../../lib/settings.js';
import type { WebhookHandler } from '../../lib/constructs/webhook-functions.js';

/** The `default` source a clean clone deploys, with overrides. */
export const sourceFor = (overrides: Partial<DeployedSource> = {}): DeployedSource => ({
  name: 'default',
  scheme: 'standard-webhooks',
  generateSecret: true,
  allowedIps: [],
  maxAgeSeconds: 300,
  maxBodyBytes: 1_048_576,
  retentionSeconds: 604_800,
  ...overrides,
});

/** Settings as a clean clone deploys them (dev), with overrides. */
export const settingsFor = (overrides: Partial<DeploymentSettings> = {}): DeploymentSettings => ({
  stage: 'dev',
  sources: [sourceFor()],
  corsOrigins: [],
  trustedProxies: [],
  frontDoor: 'rest',
  wafEnabled: false,
  wafRateLimitPer5Minutes: 10_000,
  debug: false,
  secretCacheSeconds: 300,
  cloudTrail: 'existing',
  tracing: false,
  apiGatewayCloudWatchRole: 'create',
  origin: 'environment',
  ...overrides,
});

/** Production settings that pass the checklist. */
export const prodSettings = (overrides: Partial<DeploymentSettings> = {}): DeploymentSettings =>
  settingsFor({
    stage: 'prod',
    corsOrigins: ['https://app.example.com'],
    alarmEmail: 'ops@example.com',
    wafEnabled: true,
    cloudTrail: 'create',
    // readSettings's prod default.
    reservedConcurrency: PROD_RESERVED_CONCURRENCY,
    ...overrides,
  });

/** Skips asset bundling for every stack (seconds per function); the bundle test opts back in. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

/**
 * Builds the stack with cdk-nag's AwsSolutions pack registered, as the app
 * does. Bundling is skipped unless asked for.
 */
export const synth = (
  settings: DeploymentSettings,
  options: { bundle?: boolean; outdir?: string; webhookHandler?: WebhookHandler } = {},
) => {
  const app = new App({ context: options.bundle ? {} : NO_BUNDLING, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const stack = new HookwardenStack(app, stackName(settings.stage), {
    settings,
    ...(options.webhookHandler ? { webhookHandler: options.webhookHandler } : {}),
  });
  enableNag(app);
  return { app, stack, template: () => Template.fromStack(stack) };
};
