import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AUTHENTICATION_FAILURE_CODES } from './errors';

/** The logger and metrics a pipeline reports through. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** @default process.env.POWERTOOLS_SERVICE_NAME ?? 'hookwarden' */
  readonly serviceName?: string;
  /** @default process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Hookwarden' */
  readonly namespace?: string;
}

/** Creates the Powertools Logger and Metrics once per container (cold start). */
export const createTelemetry = (options: TelemetryOptions = {}): Telemetry => {
  const serviceName = options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'hookwarden';
  const namespace = options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Hookwarden';
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace }),
  };
};

/** Metric names; the CDK alarms and dashboard refer to the same names. */
export const METRIC = {
  accepted: 'DeliveryAccepted',
  duplicate: 'DeliveryDuplicate',
  rejected: 'DeliveryRejected',
  authenticationFailure: 'AuthenticationFailure',
  rateLimited: 'RateLimited',
  blocked: 'BlockedRequest',
  /** A configured key that cannot be used (undecodable or too short); service dimension only, for an alarm. */
  secretKeyUnusable: 'SecretKeyUnusable',
} as const;

/** Codes also counted alone (service dimension only), so CloudWatch alarms can watch them. */
const ALARMED: ReadonlyMap<string, string> = new Map([
  ['rate_limited', METRIC.rateLimited],
  ['ip_blocked', METRIC.blocked],
]);

/** Publishes one count with its own dimensions (EMF line), immediately. */
export const countMetric = (
  metrics: Metrics,
  name: string,
  dimensions: Readonly<Record<string, string>>,
): void => {
  const single = metrics.singleMetric();
  for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
  single.addMetric(name, MetricUnit.Count, 1);
};

/** What one rejection looks like in the log. Never carries a secret, signature or body. */
export interface SecurityEvent {
  readonly code: string;
  readonly statusCode: number;
  readonly source?: string;
  readonly clientIp?: string;
  readonly requestId?: string;
  readonly reason?: string;
  readonly [key: string]: unknown;
}

/** Logs one structured security event and counts it (by source and code; alarmed codes also alone). */
export const reportRejection = (telemetry: Telemetry, event: SecurityEvent): void => {
  telemetry.logger.warn('webhook rejected', { securityEvent: event });
  countMetric(telemetry.metrics, METRIC.rejected, { source: event.source ?? 'unknown', code: event.code });
  if (AUTHENTICATION_FAILURE_CODES.has(event.code)) countMetric(telemetry.metrics, METRIC.authenticationFailure, {});
  const alarmed = ALARMED.get(event.code);
  if (alarmed) countMetric(telemetry.metrics, alarmed, {});
};
