import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { HookwardenConfig } from './config/index.js';
import { answeredByDeadline, endInvocation, enterChain, STILL_RUNNING, WEBHOOK_DEADLINE } from './deadline.js';
import { ConfigError, HttpError, StoreUnavailableError } from './errors.js';
import { kindOf, Problems } from './config/rules.js';
import { corsPolicy, preflightHandler } from './middleware/cors/index.js';
import { errorResponder } from './middleware/error-responder/index.js';
import { ipAllowlist } from './middleware/ip-allowlist/index.js';
import { rawBody } from './middleware/raw-body/index.js';
import { replayGuard, replayGuardProblems, type ReplayGuardOptions } from './middleware/replay-guard/index.js';
import { securityEvents } from './middleware/security-events/index.js';
import { securityHeaders } from './middleware/security-headers/index.js';
import { signatureVerifier } from './middleware/signature/index.js';
import { eventOrStandIn, type HttpMiddleware, type WebhookContext, type WebhookState } from './middleware/types.js';
import { webhookRoute } from './middleware/webhook-route/index.js';
import { bypassMonitor } from './middleware/bypass-monitor/index.js';
import { containment } from './middleware/containment/index.js';
import type { SecretProviderFactory } from './secrets/index.js';
import type { ControlsCache } from './stores/controls-cache.js';
import type { DeliveryStore } from './stores/delivery-store.js';
import type { RateLimiter } from './stores/rate-limit-store.js';
import { redactForLog } from './redaction.js';
import type { Telemetry } from './telemetry.js';
import { wireDependencies, type WiringOptions } from './wiring.js';

/** What a pipeline needs, built once per container. */
export interface PipelineDependencies {
  readonly config: HookwardenConfig;
  readonly store: DeliveryStore;
  readonly telemetry: Telemetry;
  readonly secretProviders: SecretProviderFactory;
  /**
   * Sliding-window limits per source and client (sources' `rateLimit` / `clientRateLimit`). `false`: not
   * enforced, on purpose. Left out while a source sets a limit, its deliveries fail (500) rather than pass unlimited.
   */
  readonly rateLimiter?: RateLimiter | false;
  /** Blocklist and source switch. @default none (nothing blocked or disabled) */
  readonly controls?: ControlsCache;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /**
   * A webhook request answers 503 `unavailable` (with `Retry-After`) after this long at most, or sooner when the
   * function has less time left (see core/deadline.ts): its DynamoDB calls are aborted then. Derived from the
   * webhook function's timeout, so the two cannot drift; tests set a short one. @default WEBHOOK_DEADLINE.budgetMs (8000)
   */
  readonly requestBudgetMs?: number;
}

/** A Lambda handler for API Gateway REST proxy events. */
export type HttpHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * What a handler wrapped by {@link withHookwarden} can count on: every check has run and set its part, so `source`,
 * `headers`, `client`, `body`, `delivery` and `receivedAt` are there (no `!` needed).
 */
export type VerifiedWebhookState = WebhookState &
  Required<Pick<WebhookState, 'source' | 'headers' | 'client' | 'body' | 'delivery' | 'receivedAt'>>;

/** The Lambda context a wrapped handler receives. */
export interface VerifiedWebhookContext extends Context {
  hookwarden: VerifiedWebhookState;
}

/** A handler wrapped by Hookwarden: it runs only for authentic, fresh, first-seen deliveries. */
export type WebhookHandler = (event: APIGatewayProxyEvent, context: VerifiedWebhookContext) => Promise<APIGatewayProxyResult>;

const FALLBACK_BODY = JSON.stringify({ error: { code: 'internal_error', message: 'Internal server error.' } });

/**
 * The middlewares every HTTP route gets, outermost first: a last-resort error
 * handler, the Lambda context in logs, security headers, CORS, the one error
 * responder, and security events.
 */
export const httpMiddlewares = (deps: Pick<PipelineDependencies, 'config' | 'telemetry'>): HttpMiddleware[] => [
  httpErrorHandler({
    fallbackMessage: FALLBACK_BODY,
    logger: (error: unknown) =>
      deps.telemetry.logger.error('unhandled error', { error: redactForLog(error, [], { production: deps.config.production }) }),
  }) as HttpMiddleware,
  // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds signatures, read tokens and the body.
  injectLambdaContext(deps.telemetry.logger, { resetKeys: true, logEvent: false }) as HttpMiddleware,
  securityHeaders(),
  corsPolicy({ origins: deps.config.corsOrigins }),
  errorResponder({ production: deps.config.production }),
  securityEvents({ telemetry: deps.telemetry, production: deps.config.production }),
];

/**
 * The webhook checks in pipeline order: route (404/405), client IP and
 * allowlist (403), bypass monitoring, containment (503 disabled source, 403
 * blocked IP), raw body and size (413), signature and timestamp (401), then the
 * replay guard: the rate-limit counters (429), then the delivery's conditional
 * write (200 duplicate, 409, 503). Around a handler of your own (`process`
 * mode), build it with `middy(handler, hookwardenPlugin())`, as
 * {@link withHookwarden} does, so a handler that outlives the invocation is not
 * run again while it still runs, and a claim no hook settled is settled at the end.
 */
export const webhookMiddlewares = (
  deps: PipelineDependencies,
  options: Pick<ReplayGuardOptions, 'mode' | 'leaseSeconds'> = {},
): HttpMiddleware[] => {
  const { config, now } = deps;
  return [
    webhookRoute({ sources: config.sources, ...(now ? { now } : {}) }),
    ipAllowlist({ sources: config.sources, trustedProxies: config.trustedProxies }),
    bypassMonitor({ telemetry: deps.telemetry, ...(now ? { now } : {}) }),
    ...(deps.controls ? [containment({ controls: deps.controls })] : []),
    rawBody(),
    signatureVerifier({
      sources: config.sources,
      secretProviders: deps.secretProviders,
      telemetry: deps.telemetry,
      ...(now ? { now } : {}),
    }),
    replayGuard({
      store: deps.store,
      telemetry: deps.telemetry,
      ...(deps.rateLimiter === undefined ? {} : { rateLimiter: deps.rateLimiter }),
      ...options,
      ...(now ? { now } : {}),
    }),
  ];
};

/**
 * Routes CORS preflights (OPTIONS) to their own handler, everything else to the
 * webhook pipeline. A preflight for an unknown source is a 404, as its POST would be.
 */
const withPreflight = (deps: Pick<PipelineDependencies, 'config' | 'telemetry'>, webhook: HttpHandler): HttpHandler => {
  const answer = preflightHandler({ origins: deps.config.corsOrigins });
  const sources = deps.config.sources;
  const knownSourcePreflight = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const name = event.pathParameters?.source;
    if (name === undefined || !sources.has(name))
      throw new HttpError(404, 'not_found', 'Not found.', { details: { reason: 'unknown source' } });
    return answer(event);
  };
  const preflight = middy(knownSourcePreflight).use(httpMiddlewares(deps)) as unknown as HttpHandler;
  return (sent, context) => {
    // No event at all (a console test invoke) is the webhook pipeline's 500, not a TypeError thrown here.
    const event = eventOrStandIn(sent);
    return event.httpMethod === 'OPTIONS' ? preflight(event, context) : webhook(event, context);
  };
};

/**
 * One deadline for every store call of a webhook request (blocklist, rate limits, the claim), one after another:
 * at it, each call still running is aborted and the request answers 503 `unavailable` as for any store failure;
 * if it is still running `lateAnswerMs` later all the same (work the abort does not reach), it is answered 503
 * without it, through the same middlewares (security headers, CORS, the error body, the log line, the metric).
 * In `process` mode the replay guard stops the clock once the delivery is claimed (holdDeadline): a handler that
 * runs must never be answered for, nor its record released under it; complete and release get their own time.
 */
const withRequestDeadline = (deps: PipelineDependencies, webhook: HttpHandler): HttpHandler => {
  const late = middy(
    async (): Promise<APIGatewayProxyResult> => {
      throw new StoreUnavailableError(new Error(STILL_RUNNING));
    },
    { timeoutEarlyInMillis: 0 },
  )
    .use(httpMiddlewares(deps))
    // Names the source in the log line and the metric, as the request's own answer would.
    .use(webhookRoute({ sources: deps.config.sources, ...(deps.now ? { now: deps.now } : {}) })) as unknown as HttpHandler;
  return answeredByDeadline(deps.requestBudgetMs ?? WEBHOOK_DEADLINE.budgetMs, WEBHOOK_DEADLINE, webhook, late);
};

/**
 * Middy's options for a chain of Hookwarden's middlewares around a handler of your own:
 * `middy(handler, hookwardenPlugin())`. No early timeout (Middy's would answer 500 and give the record back while the
 * handler still runs: Lambda freezes it, and the retry would run it a second time), and at the end of each request
 * whatever the replay guard left for it: a claim none of its hooks settled, because a middleware after it answered
 * early (Middy then runs no `after` hook), is settled by the answer given (a 2xx completes it, anything else gives it
 * back) instead of holding every copy off (409) until its lease. `withHookwarden` builds its chain with it.
 */
export const hookwardenPlugin = (): {
  timeoutEarlyInMillis: number;
  /** Middy passes the request (its types declare no parameter). */
  requestStart: (request?: { context?: unknown }) => void;
  requestEnd: (request: { context: object }) => Promise<void>;
} => {
  // Each request's depth among the chains built with it on its context (one inside another: see endInvocation).
  const depths = new WeakMap<object, number>();
  return {
    timeoutEarlyInMillis: 0,
    // Also what tells the replay guard that this chain was built with the plugin (it warns of one built without).
    requestStart: (request) => {
      if (request && typeof request.context === 'object' && request.context !== null) depths.set(request, enterChain(request.context));
    },
    requestEnd: (request) => endInvocation(request.context, depths.get(request) ?? 0),
  };
};

/** Options of {@link withHookwarden}: the dependencies to inject or drop (see {@link WiringOptions}) and the processing lease. */
export interface WithHookwardenOptions extends WiringOptions, Pick<ReplayGuardOptions, 'leaseSeconds'> {}

/**
 * Wraps your own handler with every Hookwarden check. The delivery is recorded
 * before your handler runs and the record removed if it throws or answers
 * anything but 2xx, so the provider's retry is processed, never lost; a copy
 * of a processed delivery never reaches it. Your handler reads the verified delivery from
 * `context.hookwarden` (`source`, `delivery.deliveryId`, `body`, `client`).
 *
 * Every dependency is built from the environment and the configuration as
 * Hookwarden's own function builds it (store, telemetry, secrets, blocklist and
 * source switch, rate limits); inject your own in `options`, or drop one with
 * an explicit `false` (`{ rateLimiter: false }`, `{ controls: false }`).
 *
 * @throws ConfigError at cold start when the configuration is invalid, `handler` is no function or an option is not what it must be
 * @example
 * export const handler = withHookwarden(async (event, context) => {
 *   await enqueue(context.hookwarden.body);
 *   return { statusCode: 202, body: '' };
 * });
 */
export const withHookwarden = (handler: WebhookHandler, options: WithHookwardenOptions = {}): HttpHandler => {
  // From JavaScript without types: every problem of the handler, the lease and the other options in one error, at cold start.
  const problems = new Problems();
  if (typeof handler !== 'function') problems.add('handler', `must be a function, got ${kindOf(handler)}`);
  problems.items.push(
    ...replayGuardProblems({ leaseSeconds: (options as Partial<WithHookwardenOptions> | null)?.leaseSeconds }, 'options'),
  );
  const deps = problems.collect(() => wireDependencies(options));
  if (problems.items.length > 0 || !deps) throw new ConfigError(problems.items);
  // No early timeout: Middy's would answer 500 and release the record while the handler still runs (Lambda then
  // freezes it, not kills it), so the retry would run it a second time. Let Lambda time out and kill the handler;
  // the record holds copies off (409) until the lease, which outlasts the invocation, then the retry is processed.
  // Nothing ends it on the local server: there the replay guard keeps its lease alive until it settles.
  const webhook = middy(handler as never, hookwardenPlugin())
    .use(httpMiddlewares(deps))
    .use(
      webhookMiddlewares(deps, { mode: 'process', ...(options.leaseSeconds === undefined ? {} : { leaseSeconds: options.leaseSeconds }) }),
    );
  return withPreflight(deps, withRequestDeadline(deps, webhook as unknown as HttpHandler));
};

/**
 * Hookwarden's own webhook endpoint: the conditional write is the storage; answers 202 with the id, or 503
 * `unavailable` by the request's deadline when the store hangs (see {@link PipelineDependencies.requestBudgetMs}).
 */
export const createWebhookHandler = (deps: PipelineDependencies): HttpHandler => {
  const accept = async (_event: APIGatewayProxyEvent, context: WebhookContext): Promise<APIGatewayProxyResult> => ({
    statusCode: 202,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      status: 'accepted',
      id: context.hookwarden.delivery?.deliveryId,
      providerId: context.hookwarden.delivery?.providerId,
    }),
  });
  // Middy's own early timeout (5 ms before the end, a 500) is off: the request's deadline answers long before it.
  const webhook = middy(accept as never, { timeoutEarlyInMillis: 0 })
    .use(httpMiddlewares(deps))
    .use(webhookMiddlewares(deps, { mode: 'store' }));
  return withPreflight(deps, withRequestDeadline(deps, webhook as unknown as HttpHandler));
};
