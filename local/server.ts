import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHealthHandler } from '../functions/health/app';
import { createWebhookHandler, type HttpHandler, type PipelineDependencies } from '../functions/shared/pipeline';
import { localContext, readBody, sendResult, toProxyEvent } from './http-adapter';

/** API Gateway REST's payload limit: larger requests never reach a function. */
const GATEWAY_LIMIT_BYTES = 10 * 1024 * 1024;

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
}

const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;

/**
 * Serves the Lambda handlers over HTTP as API Gateway would route them:
 * `/webhooks/{source}` to the webhook function, everything else to the health
 * function (which answers 404 for unknown paths in the same error format).
 */
export const startHttpServer = async (deps: PipelineDependencies, options: HttpServerOptions = {}): Promise<LocalHttpServer> => {
  const webhook: HttpHandler = options.webhookHandler ?? createWebhookHandler(deps);
  const health: HttpHandler = createHealthHandler(deps);
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req, GATEWAY_LIMIT_BYTES);
      if (body === undefined) {
        sendResult(res, { statusCode: 413, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Request Too Long' }) });
        return;
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const match = WEBHOOK_PATH.exec(path);
      let event: APIGatewayProxyEvent;
      let handler: HttpHandler;
      if (match) {
        let source: string;
        try {
          source = decodeURIComponent(match[1] as string);
        } catch {
          source = match[1] as string;
        }
        event = toProxyEvent(req, body, { resource: '/webhooks/{source}', pathParameters: { source } });
        handler = webhook;
      } else {
        event = toProxyEvent(req, body, { resource: path, pathParameters: null });
        handler = health;
      }
      sendResult(res, await handler(event, localContext(match ? 'hookwarden-webhook' : 'hookwarden-health')));
    })().catch((error: unknown) => {
      deps.telemetry.logger.error('local server failed a request', { error });
      if (!res.headersSent) sendResult(res, { statusCode: 502, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Internal server error' }) });
    });
  });
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
