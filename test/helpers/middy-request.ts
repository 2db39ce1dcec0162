import type { APIGatewayProxyEvent } from 'aws-lambda';
import { loadConfig, type SourceConfig } from '../../core/config/index.js';
import { headerMapFromEvent } from '../../core/headers.js';
import type { HttpRequest, WebhookContext, WebhookState } from '../../core/middleware/types.js';
import { parseAddress } from '../../core/net.js';
import { emptyDir } from './harness.js';

/** Configured sources, parsed from `WEBHOOK_*` variables as the functions parse them. */
export const sourcesFrom = (env: Record<string, string>): ReadonlyMap<string, SourceConfig> => loadConfig({ ...env }, emptyDir()).sources;

/**
 * A Middy request as a middleware's hooks receive it (Middy's own package tests
 * build the same object): a POST to `/webhooks/default` from 203.0.113.9,
 * with `event` fields and the Hookwarden state the earlier middlewares set overridden.
 */
export const middyRequest = (event: Partial<APIGatewayProxyEvent> = {}, state: WebhookState = {}): HttpRequest =>
  ({
    event: {
      httpMethod: 'POST',
      path: '/webhooks/default',
      resource: '/webhooks/{source}',
      pathParameters: { source: 'default' },
      headers: { 'content-type': 'application/json' },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      body: '{}',
      isBase64Encoded: false,
      requestContext: { requestId: 'api-request-1', identity: { sourceIp: '203.0.113.9' } },
      ...event,
    } as APIGatewayProxyEvent,
    context: { awsRequestId: 'lambda-request-1', getRemainingTimeInMillis: () => 10_000, hookwarden: state } as unknown as WebhookContext,
    response: undefined,
    error: undefined,
    internal: {},
  }) as unknown as HttpRequest;

/**
 * A delivery as the replay guard sees it: `middyRequest` with a `webhook-id` of `deliveryId`, its signature verified
 * for `source` (the state authenticity sets), a `{"type":"t"}` body, from 203.0.113.9.
 */
export const authenticRequest = (deliveryId: string, source: SourceConfig | undefined): HttpRequest => {
  const req = middyRequest({ headers: { 'webhook-id': deliveryId } });
  const state = req.context.hookwarden;
  state.source = source;
  state.headers = headerMapFromEvent(req.event);
  state.body = Buffer.from('{"type":"t"}');
  state.client = { address: parseAddress('203.0.113.9')! } as never;
  state.delivery = { ok: true, deliveryId } as never;
  return req;
};
