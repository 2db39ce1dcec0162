import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTelemetry,
  createWebhookHandler,
  DynamoDbDeliveryStore,
  environmentSecretProviders,
  loadConfig,
  withHookwarden,
} from '../../core/index.js';
import { DELIVERIES_TABLE } from '../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { localContext } from '../../local/http-adapter.js';
import { countCalls, emptyDir } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender, type SignedDelivery } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_shapes', secret: SECRET });

/** The delivery as an Application Load Balancer hands it to a Lambda target, after AWS's documented example. */
const albEvent = (d: SignedDelivery): APIGatewayProxyEvent =>
  ({
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hooks/6d0ecf831eec9f09' } },
    httpMethod: 'POST',
    path: '/webhooks/default',
    queryStringParameters: {},
    headers: {
      'content-type': 'application/json',
      host: 'hooks-1234567890.us-east-1.elb.amazonaws.com',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...d.headers,
    },
    body: d.body,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEvent;

/** The delivery as a Lambda function URL hands it over (payload format 2.0), after AWS's documented example. */
const functionUrlEvent = (d: SignedDelivery): APIGatewayProxyEvent =>
  ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/webhooks/default',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...d.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdefghijklmnopqrstuvwxyz0',
      domainName: 'abcdefghijklmnopqrstuvwxyz0.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz0',
      http: { method: 'POST', path: '/webhooks/default', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'sender/1.0' },
      requestId: 'req-function-url',
      routeKey: '$default',
      stage: '$default',
      time: '02/Dec/2026:11:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: d.body,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEvent;

/**
 * A team puts its wrapped handler behind something other than API Gateway: each signed delivery is refused with a 500
 * (a server fault, retried by senders that retry) whose log line names the fix, before any DynamoDB call or the
 * handler, never an answer that blames the sender.
 */
describe('a wrapped handler given an event that is not API Gateway’s, against dynalite', () => {
  let store: LocalStore;
  let calls: ReturnType<typeof countCalls>;
  beforeAll(async () => {
    store = await startLocalStore();
    calls = countCalls(store.client);
  });
  afterAll(() => store?.close());

  /** `withHookwarden`'s options on the test's store, production, no limits. */
  const options = () => ({
    config: loadConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: SECRET }, emptyDir()),
    dynamoDb: store.client,
    secretProviders: environmentSecretProviders,
    telemetry: createTelemetry(),
    rateLimiter: false as const,
    controls: false as const,
  });

  it.each([
    // It was 404 `not_found` ("unknown source", the log naming the very path the source is configured for).
    ['an Application Load Balancer', albEvent, 'an Application Load Balancer event'],
    // It was told to "integrate with payloadFormatVersion 1.0", which a function URL has no setting for.
    ['a Lambda function URL', functionUrlEvent, 'a Lambda function URL event'],
  ])('%s: 500, the log naming the front door and the fix', async (_name, eventOf, named) => {
    const before = calls.count();
    let ran = 0;
    const handler = withHookwarden(async () => {
      ran += 1;
      return { statusCode: 202, body: '' };
    }, options());
    let answer!: Awaited<ReturnType<typeof handler>>;
    const lines = await jsonLinesDuring(async () => (answer = await handler(eventOf(signed()), localContext('webhook'))));
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'internal_error' } });
    const failed = lines.find((line) => line.message === 'webhook failed');
    expect((failed?.error as { message?: string } | undefined)?.message).toContain(named);
    expect((failed?.error as { message?: string } | undefined)?.message).toContain('put API Gateway in front of it');
    expect(ran).toBe(0);
    expect(calls.count()).toBe(before);
  });

  // No event at all, or one that is no object: a test invoke from the console or the CLI. A `null` event was a
  // `TypeError` thrown out of the handler (Lambda's own error, no request id), `undefined` a 404 blaming a sender that
  // never was, a string a 404 too. Each is the 500 naming what the function was invoked with, before any DynamoDB call.

  it.each([
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a string', '{"httpMethod":"POST"}', 'string'],
    ['a number', 42, 'number'],
  ])('%s: 500 with a request id, the log naming it, the handler never run', async (_name, sent, named) => {
    const before = calls.count();
    let ran = 0;
    const handlers = [
      withHookwarden(async () => {
        ran += 1;
        return { statusCode: 202, body: '' };
      }, options()),
      createWebhookHandler({
        config: options().config,
        telemetry: createTelemetry(),
        secretProviders: environmentSecretProviders,
        store: new DynamoDbDeliveryStore({ client: store.client, tableName: DELIVERIES_TABLE.localName }),
        rateLimiter: false,
      }),
    ];
    for (const handler of handlers) {
      let answer!: Awaited<ReturnType<typeof handler>>;
      const lines = await jsonLinesDuring(async () => (answer = await handler(sent as never, localContext('webhook'))));
      expect(answer.statusCode).toBe(500);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'internal_error', requestId: expect.any(String) } });
      const failed = lines.find((line) => line.message === 'webhook failed');
      expect((failed?.error as { message?: string } | undefined)?.message).toContain(`invoked with ${named} as its event`);
    }
    expect(ran).toBe(0);
    expect(calls.count()).toBe(before);
  });
});
