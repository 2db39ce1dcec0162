import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { productionMode } from './config/index.js';
import { isAuthenticationFailure } from './errors.js';
import { isForeignError, redactForLog } from './redaction.js';

/** The logger and metrics a pipeline reports through. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Where custom metrics land: the CloudWatch namespace and the `service`
 * dimension every metric carries. The functions read it from the environment
 * ({@link metricsEnvironment}); the CDK alarms and dashboard read the same value.
 */
export interface MetricsIdentity {
  /** CloudWatch namespace (`POWERTOOLS_METRICS_NAMESPACE`). */
  readonly namespace: string;
  /** The `service` dimension on every metric (`POWERTOOLS_SERVICE_NAME`). */
  readonly service: string;
}

/** The identity outside a deployed stack (local server, tests): what Powertools gets when nothing is set. */
export const DEFAULT_METRICS_IDENTITY: MetricsIdentity = { namespace: 'Hookwarden', service: 'hookwarden' };

/**
 * The metrics identity of one stack: namespace and service both carry the
 * stack's name (and so its stage), so two stages in one account and region
 * never read each other's metrics: dev's forged requests cannot trip prod's alarms.
 * @example metricsIdentity('Hookwarden-prod') // { namespace: 'Hookwarden-prod', service: 'hookwarden-prod' }
 */
export const metricsIdentity = (stackName: string): MetricsIdentity => ({ namespace: stackName, service: stackName.toLowerCase() });

/** The environment variables that give a function `identity` (read back by {@link createTelemetry}). */
export const metricsEnvironment = (
  identity: MetricsIdentity,
): { POWERTOOLS_SERVICE_NAME: string; POWERTOOLS_METRICS_NAMESPACE: string } => ({
  POWERTOOLS_SERVICE_NAME: identity.service,
  POWERTOOLS_METRICS_NAMESPACE: identity.namespace,
});

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** @default process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_METRICS_IDENTITY.service */
  readonly serviceName?: string;
  /** @default process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_IDENTITY.namespace */
  readonly namespace?: string;
  /**
   * Production: every log line withholds the message of a parser's, zlib's, Node's or AWS SDK's error it carries
   * (core/redaction.ts), whichever code logged it. @default the mode `loadConfig` reads from `process.env` (`NODE_ENV`, `DEBUG`)
   */
  readonly production?: boolean;
}

/**
 * The logger's JSON replacer in production: an error whose message is someone else's text about its input (it may
 * quote a body, a token, a value DynamoDB refused) is logged as what it is, its message withheld. It is called for
 * every value of every line, so it does no more than an `instanceof` for anything else.
 */
const withholdForeign = (_key: string, value: unknown): unknown =>
  value instanceof Error && isForeignError(value) ? redactForLog(value, [], { production: true }) : value;

/** Creates the Powertools Logger and Metrics once per container (cold start). */
export const createTelemetry = (options: TelemetryOptions = {}): Telemetry => {
  const serviceName = options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_METRICS_IDENTITY.service;
  const namespace = options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_IDENTITY.namespace;
  const production = options.production ?? productionMode(process.env);
  return {
    logger: new Logger({ serviceName, ...(production ? { jsonReplacerFn: withholdForeign } : {}) }),
    metrics: new Metrics({ serviceName, namespace }),
  };
};

/** Metric names: the functions emit exactly these, and the CDK alarms and dashboard read them from here. */
export const METRIC = {
  accepted: 'DeliveryAccepted',
  duplicate: 'DeliveryDuplicate',
  rejected: 'DeliveryRejected',
  authenticationFailure: 'AuthenticationFailure',
  rateLimited: 'RateLimited',
  blocked: 'BlockedRequest',
  /**
   * How many configured keys cannot be used (undecodable, too short, malformed), over every source,
   * published each time a function loads a source's key set, 0 included; service dimension only, for an alarm.
   */
  secretKeyUnusable: 'SecretKeyUnusable',
  /** An untrusted `X-Forwarded-For` or requests spread over one IPv6 /64; by `code`. */
  bypassAttempt: 'BypassAttempt',
  /** A refused request to the deliveries API (`GET /deliveries`, `/events`); by `code`. */
  apiRejected: 'ApiRequestRejected',
  /** The age of a manual source's current key, published daily by the key-age check; by `source`. */
  secretKeyAge: 'SecretKeyAgeSeconds',
  /**
   * A wrapped handler finished (completed or failed) after its delivery's lease ran out and another claim took the
   * delivery over: it may have run twice. Service dimension only, for an alarm.
   */
  leaseLost: 'DeliveryLeaseLost',
} as const;

/** A metric name the functions can emit. */
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Dimension names. Every metric also carries `service` (Powertools adds it from the service name). */
export const DIMENSION = { service: 'service', source: 'source', code: 'code' } as const;

/** A dimension a metric is counted by, besides `service`. */
export type DimensionName = Exclude<(typeof DIMENSION)[keyof typeof DIMENSION], 'service'>;

/**
 * The dimensions each metric is counted by, besides `service`. CloudWatch
 * identifies a metric by its exact dimension set: an alarm must name exactly
 * these (plus `service`) to see a datapoint; {@link countMetric} is typed by it.
 */
export const METRIC_DIMENSIONS = {
  DeliveryAccepted: ['source'],
  DeliveryDuplicate: ['source'],
  DeliveryRejected: ['source', 'code'],
  AuthenticationFailure: [],
  RateLimited: [],
  BlockedRequest: [],
  SecretKeyUnusable: [],
  BypassAttempt: ['code'],
  ApiRequestRejected: ['code'],
  SecretKeyAgeSeconds: ['source'],
  DeliveryLeaseLost: [],
} as const satisfies Record<MetricName, readonly DimensionName[]>;

/** The dimension values one count of metric `N` takes. */
export type DimensionsOf<N extends MetricName> = Readonly<Record<(typeof METRIC_DIMENSIONS)[N][number], string>>;

/**
 * The `source` dimension of a request whose source is not configured: one fixed
 * value, so a request path never becomes a metric (unbounded cardinality, cost,
 * escape sequences). A source name starts with a letter or digit, so it cannot
 * collide with this.
 */
export const UNKNOWN_SOURCE = '(unknown)';

/** How many characters of request-controlled text a log line keeps. */
export const LOGGED_TEXT_MAX_CHARS = 128;

// C0 and C1 controls, DEL, line and paragraph separators, bidi overrides and isolates, lone surrogates, and the escape character itself.
const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Request-controlled text as a log line may carry it: unprintable and
 * direction-changing characters escaped (`\x1b`, `\u202e`), cut to
 * `maxChars` characters with `…` marking the cut, so it can neither rewrite a
 * terminal that shows the log nor make one line arbitrarily long.
 * @example printableForLog('\u001b[2Jhi') // '\\x1b[2Jhi'
 */
export const printableForLog = (text: string, maxChars = LOGGED_TEXT_MAX_CHARS): string => {
  // Enough code units for maxChars characters; the rest is never looked at.
  const head = text.slice(0, 2 * maxChars);
  const escaped = head.replace(UNPRINTABLE, (char) => {
    if (char === '\\') return '\\\\';
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  const chars = Array.from(escaped);
  if (chars.length <= maxChars && head.length === text.length) return escaped;
  return `${chars.slice(0, maxChars - 1).join('')}…`;
};

/** Codes also counted alone (service dimension only), so CloudWatch alarms can watch them. */
const ALARMED: ReadonlyMap<string, typeof METRIC.rateLimited | typeof METRIC.blocked> = new Map([
  ['rate_limited', METRIC.rateLimited],
  ['ip_blocked', METRIC.blocked],
]);

/**
 * The single-metric emitter of each Metrics, made once: `singleMetric()` builds
 * a new Metrics with its own `Console` each time, 40–75 µs, most of what a
 * count cost (`npm run bench -- server` profile: 5% of the local server's CPU
 * with metrics disabled). Publishing clears its dimensions, so it is reused
 * safely; it carries the default dimensions the parent had at the first count.
 */
const emitters = new WeakMap<Metrics, Metrics>();

/** Publishes one count (`value`, 1 unless given) with its own dimensions (EMF line), immediately. */
export const countMetric = <N extends MetricName>(metrics: Metrics, name: N, dimensions: DimensionsOf<N>, value = 1): void => {
  let single = emitters.get(metrics);
  if (single === undefined) {
    single = metrics.singleMetric();
    emitters.set(metrics, single);
  }
  try {
    for (const [key, value] of Object.entries<string>(dimensions)) single.addDimension(key, value);
    single.addMetric(name, MetricUnit.Count, value);
  } catch (error) {
    // Publishing clears the emitter; a throw before it must not leave this count's dimensions on the next one.
    single.clearDimensions();
    single.clearMetrics();
    throw error;
  }
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
  countMetric(telemetry.metrics, METRIC.rejected, { source: event.source ?? UNKNOWN_SOURCE, code: event.code });
  if (isAuthenticationFailure(event.code)) countMetric(telemetry.metrics, METRIC.authenticationFailure, {});
  const alarmed = ALARMED.get(event.code);
  if (alarmed) countMetric(telemetry.metrics, alarmed, {});
};
