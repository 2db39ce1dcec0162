import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config/index.js';
import { createWebhookHandler, type HttpHandler } from '../../../core/pipeline.js';
import { environmentSecretProviders } from '../../../core/secrets/index.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { localContext } from '../../../local/http-adapter.js';
import { emptyDir } from '../../helpers/harness.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

/** A minimal REST proxy event; each case breaks one part of it. */
const event = (overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent =>
  ({
    resource: '/webhooks/{source}',
    path: '/webhooks/default',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    pathParameters: { source: 'default' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: '{}',
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', identity: { sourceIp: '203.0.113.9' } },
    ...overrides,
  }) as APIGatewayProxyEvent;

describe('the webhook handler never answers 500 to hostile events', () => {
  let local: LocalStore;
  let handler: HttpHandler;
  beforeAll(async () => {
    local = await startLocalStore();
    const config = loadConfig(
      { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, TRUSTED_PROXIES: '203.0.113.0/24', NODE_ENV: 'production' },
      emptyDir(),
    );
    handler = createWebhookHandler({
      config,
      store: new DynamoDbDeliveryStore({ client: local.client, tableName: config.tables.deliveries }),
      telemetry: createTelemetry(),
      secretProviders: environmentSecretProviders,
    });
  });
  afterAll(() => local.close());

  const answer = async (e: APIGatewayProxyEvent) => {
    const result = await handler(e, localContext('test'));
    return { status: result.statusCode, body: JSON.parse(result.body) as { error?: { code: string } } };
  };

  it.each([
    ['no path parameter', event({ pathParameters: null }), 404, 'not_found'],
    ['a source with odd characters', event({ pathParameters: { source: '../../etc/passwd' } }), 404, 'not_found'],
    ['a lower-case method', event({ httpMethod: 'post' }), 405, 'method_not_allowed'],
    ['no source IP', event({ requestContext: { requestId: 'r' } as never }), 403, 'ip_denied'],
    [
      'a source IP that is not an address',
      event({ requestContext: { requestId: 'r', identity: { sourceIp: 'test-invoke-source-ip' } } as never }),
      403,
      'ip_denied',
    ],
    [
      'a garbled forwarded chain from a trusted proxy',
      event({ headers: { 'X-Forwarded-For': '1.2.3.4, ::zz' } }),
      400,
      'forwarded_header_invalid',
    ],
    ['a body that is not base64 though it says so', event({ isBase64Encoded: true, body: '%%%not base64%%%' }), 400, 'body_invalid'],
    ['a null body', event({ body: null }), 401, 'signature_invalid'],
    ['null headers', event({ headers: null as never, multiValueHeaders: null as never }), 401, 'signature_invalid'],
    ['a header with an undefined value', event({ headers: { 'webhook-id': undefined } as never }), 401, 'signature_invalid'],
    [
      'conflicting duplicate headers',
      event({ multiValueHeaders: { 'webhook-id': ['a', 'b'], 'webhook-timestamp': ['1', '2'], 'webhook-signature': ['v1,AAAA'] } }),
      401,
      'signature_invalid',
    ],
    [
      'a 64 KiB signature header',
      event({ headers: { 'webhook-id': 'x', 'webhook-timestamp': '1', 'webhook-signature': 'v1,'.repeat(20_000) } }),
      401,
      'signature_invalid',
    ],
    [
      'a body over the limit (base64)',
      event({ isBase64Encoded: true, body: Buffer.alloc(2 * 1024 * 1024).toString('base64') }),
      413,
      'payload_too_large',
    ],
  ])('%s → %i %s', async (_name, e, status, code) => {
    const result = await answer(e);
    expect(result.status).toBe(status);
    expect(result.body.error?.code).toBe(code);
  });

  it('answers every arbitrary header set with a 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-forwarded-for', 'content-type', 'svix-signature'),
          fc.string({ maxLength: 80 }),
        ),
        fc.option(fc.string({ maxLength: 200 }), { nil: null }),
        async (headers, body) => {
          const result = await handler(event({ headers, body }), localContext('test'));
          expect(result.statusCode).toBeGreaterThanOrEqual(400);
          expect(result.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });
});
