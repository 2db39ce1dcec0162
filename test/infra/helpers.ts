import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HookwardenStack } from '../../lib/hookwarden-stack';
import type { DeploymentSettings } from '../../lib/settings';

/** Settings as a clean clone deploys them, with overrides. */
export const settingsFor = (overrides: Partial<DeploymentSettings> = {}): DeploymentSettings => ({
  stage: 'dev',
  sources: [{ name: 'default', scheme: 'standard-webhooks', generateSecret: true, allowedIps: [], maxAgeSeconds: 300, maxBodyBytes: 1_048_576, retentionSeconds: 604_800 }],
  corsOrigins: [],
  trustedProxies: [],
  wafEnabled: false,
  wafRateLimitPer5Minutes: 10_000,
  debug: false,
  origin: 'environment',
  ...overrides,
});

/** Production settings that pass the checklist. */
export const prodSettings = (overrides: Partial<DeploymentSettings> = {}): DeploymentSettings =>
  settingsFor({ stage: 'prod', corsOrigins: ['https://app.example.com'], alarmEmail: 'ops@example.com', wafEnabled: true, ...overrides });

/**
 * Synthesizes the stack with cdk-nag's AwsSolutions pack registered, as the app
 * does. Bundling is skipped unless asked for (it needs seconds per function).
 */
export const synth = (settings: DeploymentSettings, options: { bundle?: boolean } = {}) => {
  const app = new App({ context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HookwardenStack(app, settings.stage === 'prod' ? 'Hookwarden-prod' : 'Hookwarden-dev', { settings });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: () => Template.fromStack(stack) };
};
