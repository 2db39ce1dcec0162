import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { HookwardenConfig } from '../config/index.js';
import { STILL_RUNNING } from '../deadline.js';
import { StoreUnavailableError } from '../errors.js';
import { corsPolicy, preflightHandler, type CorsPolicyOptions } from '../middleware/cors/index.js';
import { errorResponder } from '../middleware/error-responder/index.js';
import { originGuard } from '../middleware/origin-guard/index.js';
import { readToken } from '../middleware/read-token/index.js';
import { readerEvents } from '../middleware/reader-events/index.js';
import { securityHeaders } from '../middleware/security-headers/index.js';
import type { HttpMiddleware } from '../middleware/types.js';
import type { HttpHandler } from '../pipeline.js';
import type { DeliveryFeed } from '../stores/delivery-feed.js';
import type { DeliveryStore } from '../stores/delivery-store.js';
import type { RateLimiter } from '../stores/rate-limit-store.js';
import type { TokenCache } from '../stores/token-cache.js';
import { redactForLog } from '../redaction.js';
import type { Telemetry } from '../telemetry.js';
import type { ReadBudget } from './read-budget.js';
import type { ReaderSettings } from './settings.js';

/** Something that tells open streams a delivery was just stored (the local server); streams poll anyway. */
export interface DeliveryNotifier {
  /** Calls `listener` after each accepted delivery; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** What the deliveries API needs, built once per container. */
export interface ReaderDependencies {
  readonly config: HookwardenConfig;
  readonly telemetry: Telemetry;
  /** For `GET /deliveries/{source}/{id}`. */
  readonly store: DeliveryStore;
  /** The time-ordered index, for the list and the stream. */
  readonly feed: DeliveryFeed;
  readonly tokens: TokenCache;
  /** The per-token limit's counters. @default none (no per-token limit) */
  readonly rateLimiter?: RateLimiter;
  /** Each token's budget of items read, shared by its lists, streams and single reads. @default none (reads unbounded) */
  readonly readBudget?: ReadBudget;
  readonly settings: ReaderSettings;
  /** Wakes streams early (local server). @default none: streams poll every `settings.pollMs` */
  readonly notifier?: DeliveryNotifier;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** The deliveries API's CORS: GET only, and only the two request headers a reader sends. */
export const READER_CORS: Required<Pick<CorsPolicyOptions, 'methods' | 'headers'>> = {
  methods: ['GET'],
  headers: ['authorization', 'last-event-id'],
};

const FALLBACK_BODY = JSON.stringify({ error: { code: 'internal_error', message: 'Internal server error.' } });

/** The middlewares every deliveries-API answer gets, outermost first (a preflight stops before the origin guard). */
const outerMiddlewares = (deps: Pick<ReaderDependencies, 'config' | 'telemetry'>): HttpMiddleware[] => [
  httpErrorHandler({
    fallbackMessage: FALLBACK_BODY,
    logger: (error: unknown) =>
      deps.telemetry.logger.error('unhandled error', { error: redactForLog(error, [], { production: deps.config.production }) }),
  }) as HttpMiddleware,
  // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds signatures, read tokens and the body.
  injectLambdaContext(deps.telemetry.logger, { resetKeys: true, logEvent: false }) as HttpMiddleware,
  securityHeaders(),
  corsPolicy({ origins: deps.config.corsOrigins, ...READER_CORS }),
  errorResponder({ production: deps.config.production }),
  readerEvents({ telemetry: deps.telemetry, production: deps.config.production }),
];

/**
 * The deliveries API's pipeline, outermost first: last-resort error handler,
 * Lambda context in logs, security headers, CORS (exact origins, GET,
 * `Authorization` and `Last-Event-ID`), the one error responder, security
 * events, then the origin guard (403 `origin_denied` before anything is
 * read or streamed) and the bearer token with its per-token limit.
 */
export const readerMiddlewares = (deps: ReaderDependencies): HttpMiddleware[] => [
  ...outerMiddlewares(deps),
  originGuard({ origins: deps.config.corsOrigins }),
  readToken({
    tokens: deps.tokens,
    rate: deps.settings.apiRateLimit,
    ...(deps.rateLimiter ? { rateLimiter: deps.rateLimiter } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  }),
];

/** Answers CORS preflights (OPTIONS) of the deliveries API: exact origin, GET, `Authorization` and `Last-Event-ID` only. */
export const readerPreflight = (deps: Pick<ReaderDependencies, 'config' | 'telemetry'>): HttpHandler => {
  const answer = preflightHandler({ origins: deps.config.corsOrigins, ...READER_CORS });
  return middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => answer(event)).use(
    outerMiddlewares(deps),
  ) as unknown as HttpHandler;
};

/**
 * The 503 `unavailable` (with `Retry-After`) of a request still running after its deadline, through the
 * same outer middlewares as any answer (security headers, CORS, the error body, the log line): the last
 * resort of answeredByDeadline (core/deadline.ts), for work that did not stop when its DynamoDB calls were aborted.
 */
export const readerLateAnswer = (deps: Pick<ReaderDependencies, 'config' | 'telemetry'>): HttpHandler =>
  middy(
    async (): Promise<APIGatewayProxyResult> => {
      throw new StoreUnavailableError(new Error(STILL_RUNNING));
    },
    { timeoutEarlyInMillis: 0 },
  ).use(outerMiddlewares(deps)) as unknown as HttpHandler;
