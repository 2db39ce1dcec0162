import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ClientAddress } from '../client-ip.js';
import type { SourceConfig } from '../config/index.js';
import type { HeaderMap } from '../headers.js';
import type { VerifiedDelivery } from '../schemes/types.js';
import { ConfigError } from '../errors.js';
import { wholeNumberProblem } from '../config/rules.js';

/** What the middlewares learn about a delivery, in order, for later middlewares and the wrapped handler. */
export interface WebhookState {
  /** Set by webhook-route. */
  source?: SourceConfig;
  /** Lower-case header map, set by webhook-route. */
  headers?: HeaderMap;
  /** Set by ip-allowlist. */
  client?: ClientAddress;
  /** Raw body bytes, set by raw-body. */
  body?: Buffer;
  /** Set by signature once the delivery is authentic and fresh. */
  delivery?: VerifiedDelivery;
  /** Set by replay-guard when this invocation holds the delivery record. */
  claim?: { readonly token: string; readonly deliveryId: string };
  /** Epoch ms at which the pipeline started, for stored `receivedAt`. */
  receivedAt?: number;
}

/** The Lambda context as Hookwarden's middlewares extend it. */
export interface WebhookContext extends Context {
  hookwarden: WebhookState;
}

/** A Middy request of an API Gateway REST handler with Hookwarden's context. */
export type HttpRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, WebhookContext>;
/** A Middy middleware of the HTTP pipeline. */
export type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, WebhookContext>;

/** The state of this request, created on first use. */
export const stateOf = (request: HttpRequest): WebhookState => {
  const context = request.context as Partial<WebhookContext>;
  context.hookwarden ??= {};
  return context.hookwarden;
};

/** The API Gateway request id (what a caller can quote), else the Lambda one. */
export const requestIdOf = (request: HttpRequest): string =>
  request.event.requestContext?.requestId ?? request.context.awsRequestId ?? 'unknown';

// Marks the object that stands in for an invocation's event that was no object ({@link eventOrStandIn}).
const NOT_AN_EVENT = Symbol('hookwarden.notAnEvent');

const kindOfNonEvent = (event: unknown): string => (event === null ? 'null' : typeof event);

/**
 * The invocation's event, or where it is no object (`null`, `undefined`, a string: a test invoke) an empty one that
 * says so: Middy and the middlewares read `event.headers` and the like, and a `null` event was a `TypeError` thrown out
 * of the handler (Lambda's own error, no request id). `webhookRoute` then refuses it ({@link refuseNonRestEvent}).
 */
export const eventOrStandIn = <E>(event: E): E =>
  event !== null && typeof event === 'object' ? event : ({ [NOT_AN_EVENT]: kindOfNonEvent(event) } as E);

/**
 * Refuses an event that is not API Gateway's REST proxy event (or an HTTP API's payload format 1.0 one), as a 500
 * (a server fault, retried by senders that retry) whose logged message names the fix, never an answer that blames
 * the sender:
 * - payload format 2.0 (`version: '2.0'`, what CDK's `HttpLambdaIntegration` sends unless told otherwise) has no
 *   `httpMethod`: a signed POST was answered 405;
 * - a Lambda function URL sends payload format 2.0 too, and has no setting for 1.0;
 * - an Application Load Balancer's (`requestContext.elb`) has no `pathParameters`: every signed POST was answered 404
 *   `unknown source`, its log naming the very path the source is configured for;
 * - no event at all (`null`, `undefined`: a test invoke) or one that is no object (a string, a number) was a
 *   `TypeError` thrown out of the handler, or a 404.
 * @throws Error for any of those events
 */
export const refuseNonRestEvent = (event: unknown): void => {
  const none = event === null || typeof event !== 'object' ? kindOfNonEvent(event) : (event as Record<symbol, unknown>)[NOT_AN_EVENT];
  if (typeof none === 'string')
    throw new Error(
      `the function was invoked with ${none} as its event, not API Gateway's REST proxy event (a test invoke from the console or the CLI?)`,
    );
  const sent = event as { version?: unknown; requestContext?: { elb?: unknown; domainName?: unknown } | null } | null | undefined;
  if (sent?.requestContext?.elb !== undefined)
    throw new Error(
      "an Application Load Balancer event: this function reads API Gateway's REST proxy event; put API Gateway in front of it (a REST API, or an HTTP API with payloadFormatVersion 1.0)",
    );
  if (sent?.version !== '2.0') return;
  const domain = sent.requestContext?.domainName;
  if (typeof domain === 'string' && /\.lambda-url\.[a-z0-9-]+\.on\.aws$/.test(domain))
    throw new Error(
      "a Lambda function URL event (payload format 2.0, which a function URL cannot change): this function reads API Gateway's REST proxy event; put API Gateway in front of it (a REST API, or an HTTP API with payloadFormatVersion 1.0)",
    );
  throw new Error(
    'an API Gateway payload format 2.0 event: integrate this function with payloadFormatVersion 1.0 (the REST proxy event it reads)',
  );
};

/**
 * A factory's options over its complete `defaults`, merged once at cold start
 * (Middy's `{ ...defaults, ...opts }`), except that an option passed as
 * `undefined` keeps its default instead of erasing it.
 * @example const options = withDefaults(defaults, opts);
 */
export const withDefaults = <D extends object, O extends object>(defaults: D, options: O): Omit<O, keyof D> & D => {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged as Omit<O, keyof D> & D;
};

/**
 * Checks a factory's whole-number options at cold start, from JavaScript without types: `NaN` compares false with
 * everything, so a limit of `NaN` was no limit (`rawBody({ defaultMaxBytes: NaN })` read any body) and a header of it
 * was sent as `NaN` (`Retry-After: NaN`). An option left out (`undefined`) keeps its default.
 * @throws ConfigError naming each option outside its range
 * @example requireWholeNumbers('rawBody', opts, { defaultMaxBytes: [1, MAX_BODY_LIMIT] });
 */
export const requireWholeNumbers = (
  factory: string,
  options: object,
  ranges: Readonly<Record<string, readonly [number, number]>>,
): void => {
  const problems: string[] = [];
  for (const [name, [min, max]] of Object.entries(ranges)) {
    const problem = wholeNumberProblem(((options ?? {}) as Record<string, unknown>)[name], min, max);
    if (problem) problems.push(`${factory} ${name}: ${problem}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
};
