/**
 * `hookwarden`: the package's main entry point. Everything a team needs to put
 * Hookwarden's checks in front of its own Lambda handler, and nothing that needs
 * the CDK, the command line or the local server (those live behind
 * `hookwarden/cdk` and the `hookwarden` bin, with their own optional peers).
 *
 * - the one call: {@link withHookwarden} (and the pipeline it is built from);
 * - the middlewares one by one, to compose your own Middy chain;
 * - the signature schemes (`verify` / `sign`);
 * - the stores (DynamoDB deliveries, rate limits, blocklist and source switch);
 * - the configuration loader and its model;
 * - errors, telemetry (metric names, dimensions) and the dependency wiring.
 *
 * Deep imports are not part of the contract: the `exports` map only opens this
 * file and `hookwarden/cdk`.
 */

// The pipeline: one call for your own handler, and the chains it is built from.
export {
  createWebhookHandler,
  hookwardenPlugin,
  httpMiddlewares,
  webhookMiddlewares,
  withHookwarden,
  type HttpHandler,
  type PipelineDependencies,
  type VerifiedWebhookContext,
  type VerifiedWebhookState,
  type WebhookHandler,
  type WithHookwardenOptions,
} from './pipeline.js';
export { rateLimitsDependencies, wireDependencies, type WiringOptions } from './wiring.js';
// For a runtime of your own that does not end a handler at its timeout (as the local server does): mark each context,
// and a wrapped handler's delivery lease is kept alive while it runs.
export { endInvocation, markRunsOnPastTimeout } from './deadline.js';

// The middlewares, one by one (Middy middleware factories).
export { bypassMonitor, type BypassMonitorOptions } from './middleware/bypass-monitor/index.js';
export { containment, type ContainmentOptions } from './middleware/containment/index.js';
export { corsPolicy, preflightHandler, type CorsPolicyOptions } from './middleware/cors/index.js';
export { errorResponder, type ErrorResponderOptions } from './middleware/error-responder/index.js';
export { ipAllowlist, type IpAllowlistOptions } from './middleware/ip-allowlist/index.js';
export { rawBody, type RawBodyOptions } from './middleware/raw-body/index.js';
export { replayGuard, type ReplayGuardOptions } from './middleware/replay-guard/index.js';
export { securityEvents, type SecurityEventsOptions } from './middleware/security-events/index.js';
export { SECURITY_HEADERS, securityHeaders, type SecurityHeadersOptions } from './middleware/security-headers/index.js';
export { signatureVerifier, type SignatureVerifierOptions } from './middleware/signature/index.js';
export { webhookRoute, type WebhookRouteOptions } from './middleware/webhook-route/index.js';
export type { HttpMiddleware, HttpRequest, WebhookContext, WebhookState } from './middleware/types.js';

// Signature schemes: each has `verify(request, secrets, options)` and `sign(input)`.
export { createHmacScheme, github, PRESET_NAMES, resolveScheme, shopify, slack, standardWebhooks, stripe } from './schemes/index.js';
export type * from './schemes/types.js';

// Stores.
export { ControlsCache, type ControlsCacheOptions, type ControlsSnapshot } from './stores/controls-cache.js';
export { DynamoDbControlsStore, type BlockEntry, type Controls, type ControlsStore, type DisabledSource } from './stores/controls-store.js';
export {
  deliveryKey,
  type ClaimOptions,
  type ClaimResult,
  type DeliveryRecord,
  type DeliveryStore,
  type StoredDelivery,
} from './stores/delivery-store.js';
export { BODY_PART_PREFIX, isBodyPartKey } from './stores/body-parts.js';
export { createDynamoDbClient, type DynamoDbClientOptions } from './stores/dynamodb-client.js';
export {
  DynamoDbDeliveryStore,
  isDamaged,
  MAX_STORED_BODY_BYTES,
  type DamagedListing,
  type DynamoDbDeliveryStoreOptions,
  type ListedDelivery,
} from './stores/dynamodb-delivery-store.js';
export { DynamoDbRateLimiter, type DynamoDbRateLimiterOptions } from './stores/dynamodb-rate-limiter.js';
export type { RateDecision, RateLimiter } from './stores/rate-limit-store.js';
export { DELIVERIES_TABLE, RATE_LIMITS_TABLE, TABLES, tableName, type TableDefinition } from './stores/tables.js';

// Secrets.
export { environmentSecretProviders, staticSecrets, type SecretProvider, type SecretProviderFactory } from './secrets/index.js';
export {
  MalformedSecretError,
  parseSecretDocument,
  secretsManagerProviders,
  type SecretDocument,
  type SecretsManagerProviderOptions,
} from './secrets/secrets-manager.js';

// Configuration: one loader, one model.
export {
  configFilePath,
  describeConfig,
  loadConfig,
  requireSecrets,
  type ConfigDescriptionResult,
  type DescribeOverrides,
  type LoadConfigOptions,
} from './config/index.js';
export type { ConfigDescription, ConfigDocument, HookwardenConfig, SecretSource, SourceConfig, SourceDescription } from './config/index.js';

// Errors, telemetry and answers.
export {
  AUTHENTICATION_FAILURE_CODES,
  ConfigError,
  DamagedDeliveryError,
  DeliveryInProgressError,
  DuplicateDeliveryError,
  HttpError,
  isAuthenticationFailure,
  StoreUnavailableError,
  type AuthenticationFailureCode,
  type HttpErrorOptions,
} from './errors.js';
export {
  createTelemetry,
  DIMENSION,
  METRIC,
  METRIC_DIMENSIONS,
  metricsEnvironment,
  metricsIdentity,
  type DimensionName,
  type MetricName,
  type MetricsIdentity,
  type SecurityEvent,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.js';
export { jsonResponse } from './responses.js';
