import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HttpError } from '../../core/errors.js';
import { jsonResponse } from '../../core/responses.js';
import { refuseNonRestEvent } from '../../core/middleware/types.js';
import { httpMiddlewares, type HttpHandler, type PipelineDependencies } from '../../core/pipeline.js';
import type { HookwardenConfig } from '../../core/config/index.js';
import { createDynamoDbClient, type DynamoDbClientOptions } from '../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';

/**
 * The health function's store: one attempt, ended after 3 s (core/aws-client-settings.ts), so `GET /health/ready`
 * answers 503 within about 4 s (1 s to connect, 3 s to answer) when the table hangs, well inside the function's
 * 10 s. `options` (an endpoint, a shorter attempt) are for local use and tests.
 */
export const createHealthStore = (config: HookwardenConfig, options: DynamoDbClientOptions = {}): DynamoDbDeliveryStore =>
  new DynamoDbDeliveryStore({ client: createDynamoDbClient({ ...options, maxAttempts: 1 }), tableName: config.tables.deliveries });

/**
 * `GET /health` (liveness: 200 without touching the store) and
 * `GET /health/ready` (readiness: 200 only when the delivery table answers, else 503).
 */
export const createHealthHandler = (deps: Pick<PipelineDependencies, 'config' | 'telemetry' | 'store'>): HttpHandler => {
  const health = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    refuseNonRestEvent(event);
    // The route, not the path: a custom domain's base path is in `path` only. The local server hands this function
    // every path no other route takes, and an unknown one is 404 whatever the method.
    const route = (event.resource ?? '').replace(/\/+$/, '');
    if (route !== '/health' && route !== '/health/ready') throw new HttpError(404, 'not_found', 'Not found.');
    // GET only, as deployed: the REST and HTTP API front doors route GET alone to this function (HEAD there is 404, and a
    // HEAD route to /health/ready would need the readiness throttle too, or it would reach DescribeTable unthrottled).
    if (event.httpMethod !== 'GET')
      throw new HttpError(405, 'method_not_allowed', 'Only GET is accepted here.', { headers: { Allow: 'GET' } });
    if (route === '/health') return jsonResponse(200, { status: 'ok' });
    await deps.store.ping();
    return jsonResponse(200, { status: 'ready' });
  };
  return middy(health).use(httpMiddlewares(deps)) as unknown as HttpHandler;
};
