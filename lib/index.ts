/**
 * `hookwarden/cdk`: the CDK constructs, the stack that assembles them and the
 * app factory behind `cdk synth`. Needs the peer dependencies `aws-cdk-lib`
 * and `constructs` (your own copies: one `aws-cdk-lib` in your tree), and
 * `cdk-nag` for {@link createApp} only.
 */
export { createApp, DeploymentRefused, stackName, type CreateAppOptions } from './app.js';
export { HookwardenStack, type HookwardenStackProps } from './hookwarden-stack.js';
export { acknowledge, enableNag } from './nag.js';
export { CONTEXT_KEYS, mistypedContextKeys, readSettings, type DeployedSource, type DeploymentSettings } from './settings.js';
export { HTTP_API_FRONT_DOOR, STACK_OUTPUT, outputKey, sourceOfOutputKey, type SourceOutput, type StackOutput } from './stack-outputs.js';
export {
  productionChecklist,
  stageProblems,
  CHECKLIST_ITEMS,
  CLOUDFORMATION_MAX_OUTPUTS,
  MAX_SOURCES_PER_STACK,
  type ChecklistItem,
} from './checklist.js';

export { AuditTrail, type AuditTrailProps } from './constructs/audit-trail.js';
export { DeliveriesApi, type DeliveriesApiProps } from './constructs/deliveries-api.js';
export type { DeployedReaderSettings } from '../core/reader/settings.js';
export { EdgeFirewall, type EdgeFirewallProps } from './constructs/edge-firewall.js';
export { SecretAudit, type SecretAuditProps } from './constructs/secret-audit.js';
export { SecretRotation, type SecretRotationProps } from './constructs/secret-rotation.js';
export { SecurityAlarms, type SecurityAlarmsProps } from './constructs/security-alarms.js';
export { GENERATED_KEY_LENGTH, SourceSecrets, sourceSecretName, type SourceSecretsProps } from './constructs/source-secrets.js';
export { WebhookTables, type WebhookTablesProps } from './constructs/tables.js';
export { WebhookApi, type WebhookApiProps } from './constructs/webhook-api.js';
export { WebhookHttpApi, type WebhookHttpApiProps } from './constructs/webhook-http-api.js';
export {
  HOOKWARDEN_WEBHOOK_ENTRY,
  WebhookFunctions,
  type WebhookFunctionDefaults,
  type WebhookFunctionsProps,
  type WebhookHandler,
} from './constructs/webhook-functions.js';
export { MissingPeerError } from './optional-peer.js';
