import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../core/pipeline.js';
import { createHealthHandler } from '../../functions/health/app.js';
import { localContext } from '../../local/http-adapter.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const ORIGIN = 'https://app.example.com';
const signed = standardWebhooksSender({ prefix: 'msg_httpapi', type: 'invoice.paid' });

/**
 * An event as an API Gateway HTTP API builds it with payload format 1.0 on the
 * `$default` stage (the shape of AWS's documented example): `version: '1.0'`,
 * lower-case header names, the caller appended to `x-forwarded-for`, a
 * `requestContext` with `routeKey`-era fields and `identity.sourceIp`, and a
 * JSON body passed as text (`isBase64Encoded: false`) unless binary.
 */
const httpApiV1Event = (
  method: string,
  path: string,
  options: {
    resource?: string;
    pathParameters?: Record<string, string> | null;
    headers?: Record<string, string>;
    body?: Buffer;
    base64?: boolean;
  } = {},
): APIGatewayProxyEvent => {
  const sourceIp = '198.51.100.7';
  const headers: Record<string, string> = {
    'content-length': String(options.body?.length ?? 0),
    host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'provider-sender/1.0',
    'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e',
    'x-forwarded-for': sourceIp,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
  };
  const base64 = options.base64 ?? false;
  return {
    version: '1.0',
    resource: options.resource ?? path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body === undefined ? null : base64 ? options.body.toString('base64') : options.body.toString('utf8'),
    isBase64Encoded: options.body !== undefined && base64,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: { claims: null, scopes: null },
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      extendedRequestId: `ext-${randomUUID()}`,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: 'provider-sender/1.0',
        userArn: null,
      },
      path,
      protocol: 'HTTP/1.1',
      requestId: `req-${randomUUID()}`,
      requestTime: '29/Nov/2026:18:30:00 +0000',
      requestTimeEpoch: Date.now(),
      resourceId: null,
      resourcePath: options.resource ?? path,
      stage: '$default',
    },
  } as unknown as APIGatewayProxyEvent;
};

const webhookEvent = (
  delivery: { body: string; headers: Record<string, string> },
  base64 = false,
  method = 'POST',
  extraHeaders: Record<string, string> = {},
) =>
  httpApiV1Event(method, '/webhooks/default', {
    resource: '/webhooks/{source}',
    pathParameters: { source: 'default' },
    headers: { 'content-type': 'application/json', ...delivery.headers, ...extraHeaders },
    body: Buffer.from(delivery.body),
    base64,
  });

// frontDoor=http-api sends the handlers payload format 1.0 events (lib/constructs/webhook-http-api.ts):
// the same pipeline must authenticate, store and deduplicate them as it does REST proxy events.
describe('the handlers behind an HTTP API (payload format 1.0), against dynalite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, CORS_ORIGINS: ORIGIN });
  });
  afterAll(() => h.close());

  it('accepts a signed delivery with 202, stores it byte-exact, and answers its copy 200 duplicate', async () => {
    const handler = createWebhookHandler(h.deps);
    const d = signed();
    const first = await handler(webhookEvent(d), localContext('webhook'));
    expect(first.statusCode).toBe(202);
    expect(JSON.parse(first.body)).toEqual({ status: 'accepted', id: d.id });
    const stored = await h.store.get('default', d.id, Math.floor(Date.now() / 1000));
    expect(stored?.body.toString()).toBe(d.body);
    expect(stored?.headers['webhook-id']).toBe(d.id);

    const again = await handler(webhookEvent(d), localContext('webhook'));
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ status: 'duplicate', id: d.id });
  });

  it('accepts a body the HTTP API base64-encoded (a binary content type)', async () => {
    const handler = createWebhookHandler(h.deps);
    const d = signed();
    const res = await handler(webhookEvent(d, true), localContext('webhook'));
    expect(res.statusCode).toBe(202);
    expect((await h.store.get('default', d.id, Math.floor(Date.now() / 1000)))?.body.toString()).toBe(d.body);
  });

  it('refuses a forged delivery with 401 and writes nothing', async () => {
    const handler = createWebhookHandler(h.deps);
    const d = signed();
    const before = h.dynamoCalls();
    const res = await handler(webhookEvent(d, false, 'POST', { 'webhook-signature': 'v1,AAAA' }), localContext('webhook'));
    expect(res.statusCode).toBe(401);
    expect(h.dynamoCalls()).toBe(before);
  });

  it('answers the CORS preflight through the OPTIONS route with the exact origin', async () => {
    const handler = createWebhookHandler(h.deps);
    const res = await handler(
      httpApiV1Event('OPTIONS', '/webhooks/default', {
        resource: '/webhooks/{source}',
        pathParameters: { source: 'default' },
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      }),
      localContext('webhook'),
    );
    expect(res.statusCode).toBe(204);
    const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    expect(headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('answers GET /health and GET /health/ready', async () => {
    const health = createHealthHandler(h.deps);
    expect((await health(httpApiV1Event('GET', '/health'), localContext('health'))).statusCode).toBe(200);
    const ready = await health(httpApiV1Event('GET', '/health/ready'), localContext('health'));
    expect(ready.statusCode).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  });
});
