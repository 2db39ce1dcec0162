import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createHealthHandler } from '../functions/health/app.js';
import { resolveClientAddress } from '../core/client-ip.js';
import { headerMapFromEvent } from '../core/headers.js';
import { addressMatcher } from '../core/net.js';
import { endInvocation } from '../core/deadline.js';
import { createWebhookHandler, type HttpHandler, type PipelineDependencies } from '../core/pipeline.js';
import { Readable } from 'node:stream';
import type { StreamingHandler } from '../core/reader/events.js';
import { localContext, readBody, requestUrl, sendResult, sendStream, toProxyEvent } from './http-adapter.js';
import { answerClientError, ownError, writeRawError } from './own-errors.js';

/** API Gateway REST's payload limit: larger requests never reach a function. */
const GATEWAY_LIMIT_BYTES = 10 * 1024 * 1024;

/** How long a client may take to send a whole request, by default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long a client may take to send the request headers, by default. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/** A running local HTTP front end. */
export interface LocalHttpServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** @default 3000; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Serve this handler (e.g. one wrapped with `withHookwarden`) at `/webhooks/{source}`. @default Hookwarden's own */
  readonly webhookHandler?: HttpHandler;
  /** Longest time to receive a whole request (408 after). @default 30 000 */
  readonly requestTimeoutMs?: number;
  /** Longest time to receive the request headers (408 after); never more than `requestTimeoutMs`. @default 10 000 */
  readonly headersTimeoutMs?: number;
  /** The deliveries API: `GET /deliveries`, `GET /deliveries/{source}/{id}` and `GET /events`. @default not served */
  readonly reader?: { readonly deliveries: HttpHandler; readonly events: StreamingHandler };
  /** Told after each accepted delivery (202), to wake open event streams. */
  readonly onAccepted?: () => void;
  /** Told every answer of the webhook route (the local console keeps the recent refusals). */
  readonly onWebhookAnswer?: (answer: {
    readonly source: string;
    /** The client as the pipeline resolves it (`TRUSTED_PROXIES`, `X-Forwarded-For`); the TCP peer when it cannot be resolved. */
    readonly clientIp: string;
    readonly requestId: string;
    readonly result: APIGatewayProxyResult;
  }) => void;
  /** Routes the local server adds before all others (the console): answers and returns true for its paths. */
  readonly localRoutes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
}

const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;
const DELIVERIES_PATH = /^\/deliveries\/?$/;
const DELIVERY_PATH = /^\/deliveries\/([^/]+)\/([^/]+)\/?$/;
const EVENTS_PATH = /^\/events\/?$/;

const decoded = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** The deliveries API route a path names, as API Gateway would resolve it, or `undefined`. */
const readerRoute = (pathname: string): { resource: string; pathParameters: Record<string, string> | null } | undefined => {
  if (DELIVERIES_PATH.test(pathname)) return { resource: '/deliveries', pathParameters: null };
  if (EVENTS_PATH.test(pathname)) return { resource: '/events', pathParameters: null };
  const match = DELIVERY_PATH.exec(pathname);
  return match
    ? { resource: '/deliveries/{source}/{id}', pathParameters: { source: decoded(match[1] as string), id: decoded(match[2] as string) } }
    : undefined;
};

/** The largest body any source accepts: a larger one is refused before it is read. */
export const bodyLimitOf = (deps: Pick<PipelineDependencies, 'config'>): number =>
  Math.min(GATEWAY_LIMIT_BYTES, Math.max(0, ...[...deps.config.sources.values()].map((s) => s.maxBodyBytes)));

const tooLarge = (limit: number, requestId: string): APIGatewayProxyResult =>
  // Connection: close, so the rest of an oversized body is never read.
  ownError(413, 'payload_too_large', `The body exceeds ${limit} bytes.`, requestId, { Connection: 'close' });

/**
 * Serves the Lambda handlers over HTTP as API Gateway would route them:
 * `/webhooks/{source}` to the webhook function, everything else to the health
 * function (which answers 404 for unknown paths in the same error format).
 * Bodies over the largest source limit are refused (413) without being read,
 * slow clients time out (408), and every answer the server gives itself uses
 * the pipeline's error shape and security headers.
 */
export const startHttpServer = async (deps: PipelineDependencies, options: HttpServerOptions = {}): Promise<LocalHttpServer> => {
  const webhook: HttpHandler = options.webhookHandler ?? createWebhookHandler(deps);
  const health: HttpHandler = createHealthHandler(deps);
  const limit = bodyLimitOf(deps);
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const trustedProxies = addressMatcher(deps.config.trustedProxies);
  // The address the allowlist, blocklist and rate limits see and the stored delivery keeps, not the proxy in front.
  const clientIpOf = (event: ReturnType<typeof toProxyEvent>): string => {
    const peer = event.requestContext.identity.sourceIp;
    return resolveClientAddress(peer, headerMapFromEvent(event), trustedProxies)?.address.ip ?? peer;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const url = requestUrl(req);
    const match = url ? WEBHOOK_PATH.exec(url.pathname) : null;
    const context = localContext(match ? 'hookwarden-webhook' : 'hookwarden-health');
    const answer = (result: APIGatewayProxyResult): void => {
      if (!res.destroyed && !res.headersSent) sendResult(res, result);
    };
    if (!url) return answer(ownError(400, 'bad_request', 'The request target is not a valid URL.', requestId));
    // Node would answer this itself, outside the error shape (requireHostHeader is off so that it reaches us).
    if (req.httpVersionMinor >= 1 && req.headers.host === undefined)
      return answer(ownError(400, 'bad_request', 'An HTTP/1.1 request needs a Host header.', requestId));
    if (options.localRoutes?.(req, res, url)) return;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return answer(tooLarge(limit, requestId));
    const read = await readBody(req, limit);
    if (read.kind === 'too_large') return answer(tooLarge(limit, requestId));
    if (read.kind === 'aborted') {
      // The client's doing, not the server's: no stack, and this request's own context.
      const logger = deps.telemetry.logger.createChild();
      logger.addContext(context);
      logger.info('client closed the connection before the request ended (or timed out)', {
        requestId,
        httpMethod: req.method,
        path: url.pathname,
      });
      return;
    }
    const reader = options.reader && !match ? readerRoute(url.pathname) : undefined;
    if (reader && options.reader) {
      const readerEvent = toProxyEvent(req, read.body, reader, requestId, url);
      const readerContext = localContext(reader.resource === '/events' ? 'hookwarden-events' : 'hookwarden-reader');
      try {
        const result =
          reader.resource === '/events'
            ? await options.reader.events(readerEvent, readerContext)
            : await options.reader.deliveries(readerEvent, readerContext);
        if (result.body instanceof Readable) {
          if (res.destroyed) result.body.destroy();
          else sendStream(res, result as typeof result & { body: typeof result.body });
        } else answer(result as APIGatewayProxyResult);
      } catch (error) {
        const logger = deps.telemetry.logger.createChild();
        logger.addContext(readerContext);
        logger.error('local server failed a request', { error, requestId });
        answer(ownError(502, 'bad_gateway', 'Bad gateway.', requestId));
      }
      return;
    }
    let event;
    let handler: HttpHandler;
    if (match) {
      let source: string;
      try {
        source = decodeURIComponent(match[1] as string);
      } catch {
        source = match[1] as string;
      }
      event = toProxyEvent(req, read.body, { resource: '/webhooks/{source}', pathParameters: { source } }, requestId, url);
      handler = webhook;
    } else {
      event = toProxyEvent(req, read.body, { resource: url.pathname, pathParameters: null }, requestId, url);
      handler = health;
    }
    try {
      let result: APIGatewayProxyResult;
      try {
        result = await handler(event, context);
      } finally {
        // Before the answer: what the invocation left for its end (a claim no hook settled) is settled when the sender hears.
        await endInvocation(context);
      }
      answer(result);
      if (match && result.statusCode === 202) options.onAccepted?.();
      const webhookEvent = event;
      if (match)
        options.onWebhookAnswer?.({
          source: event.pathParameters?.source ?? '',
          // Resolved when read: the console reads it for refusals, not on every accepted delivery's path.
          get clientIp() {
            return clientIpOf(webhookEvent);
          },
          requestId,
          result,
        });
    } catch (error) {
      const logger = deps.telemetry.logger.createChild();
      logger.addContext(context);
      logger.error('local server failed a request', { error, requestId });
      answer(ownError(502, 'bad_gateway', 'Bad gateway.', requestId));
    }
  };

  const server = createServer(
    // Node checks the timeouts every connectionsCheckingInterval: keep it well under them.
    {
      requestTimeout,
      headersTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 2)),
      requireHostHeader: false,
    },
    (req, res) => void handle(req, res),
  );
  // `Expect: 100-continue` (curl sends it for bodies over 1 MiB): refuse an oversized body before inviting it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) sendResult(res, tooLarge(limit, randomUUID()));
    else {
      res.writeContinue();
      void handle(req, res);
    }
  });
  // CONNECT (a proxy tunnel) is no route here: 405 like any other method, not a silently closed socket.
  server.on('connect', (_req: IncomingMessage, socket) =>
    writeRawError(socket, 405, 'method_not_allowed', 'CONNECT is not accepted here.', randomUUID(), { Allow: 'GET, HEAD, POST, OPTIONS' }),
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => answerClientError(error, socket, randomUUID()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
