import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withHookwarden, type HttpHandler, type WebhookHandler } from '../../core/pipeline.js';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const BLOCKED = '203.0.113.9';
const signed = standardWebhooksSender({ prefix: 'msg_env', secret: SECRET });

/** A signed API Gateway event as Lambda hands it over, from `sourceIp`. */
const event = (sourceIp: string): APIGatewayProxyEvent => {
  const { id, body, headers } = signed();
  return {
    httpMethod: 'POST',
    path: '/prod/webhooks/default',
    resource: '/webhooks/{source}',
    pathParameters: { source: 'default' },
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: `api-${id}`,
      stage: 'prod',
      resourcePath: '/webhooks/{source}',
      httpMethod: 'POST',
      identity: { sourceIp },
    },
  } as unknown as APIGatewayProxyEvent;
};

const context = { awsRequestId: 'lambda-request', functionName: 'team-handler' } as Context;
const accept: WebhookHandler = async (_event, ctx) => ({
  statusCode: 202,
  body: JSON.stringify({ processed: ctx.hookwarden.delivery?.deliveryId }),
});
const codeOf = (body: string): string | undefined => (JSON.parse(body) as { error?: { code?: string } }).error?.code;

/**
 * `withHookwarden(handler)` with no options, in an environment like the deployed
 * function's: the DynamoDB endpoint comes from the SDK's own
 * AWS_ENDPOINT_URL_DYNAMODB (dynalite here), the source from the WEBHOOK_* variables.
 */
describe('withHookwarden(handler) built from the environment alone', () => {
  let store: LocalStore;
  let wrapped: HttpHandler;

  beforeAll(async () => {
    store = await startLocalStore();
    for (const name of ['HOOKWARDEN_CONFIG', 'HOOKWARDEN_CONFIG_JSON', 'CORS_ORIGINS', 'TRUSTED_PROXIES']) vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', store.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('WEBHOOK_SECRET', SECRET);
    vi.stubEnv('WEBHOOK_RATE_LIMIT', '2/60s');
    // Blocked before the cold start: the first request loads the blocklist.
    const now = Math.floor(Date.now() / 1000);
    await new DynamoDbControlsStore({ client: store.client, tableName: RATE_LIMITS_TABLE.localName }).block({
      range: `${BLOCKED}/32`,
      expiresAt: now + 3600,
      reason: 'test',
      createdAt: now,
    });
    wrapped = withHookwarden(accept);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await store?.close();
  });

  it('refuses a blocked client with 403 ip_blocked', async () => {
    const res = await wrapped(event(BLOCKED), context);
    expect(res.statusCode).toBe(403);
    expect(codeOf(res.body)).toBe('ip_blocked');
  });

  it('enforces the source rate limit: 429 after two accepted deliveries, and a copy is still a duplicate', async () => {
    const first = event('198.51.100.7');
    expect((await wrapped(first, context)).statusCode).toBe(202);
    expect((await wrapped(event('198.51.100.7'), context)).statusCode).toBe(202);
    const over = await wrapped(event('198.51.100.7'), context);
    expect(over.statusCode).toBe(429);
    expect(codeOf(over.body)).toBe('rate_limited');
    expect((await wrapped(first, context)).statusCode).toBe(200);
  });

  it('leaves the rate limits out only when told to, with rateLimiter: false', async () => {
    const unlimited = withHookwarden(accept, { rateLimiter: false });
    for (let i = 0; i < 3; i++) expect((await unlimited(event('198.51.100.8'), context)).statusCode).toBe(202);
    // The blocklist is still there.
    expect((await unlimited(event(BLOCKED), context)).statusCode).toBe(403);
  });

  it('leaves the blocklist and source switch out only when told to, with controls: false', async () => {
    const uncontained = withHookwarden(accept, { controls: false, rateLimiter: false });
    expect((await uncontained(event(BLOCKED), context)).statusCode).toBe(202);
  });
});
