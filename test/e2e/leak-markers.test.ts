import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withHookwarden } from '../../core/index.js';
import { WITHHELD } from '../../core/redaction.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
/** What the body carries that no log line or answer may show, whole or in part. */
const MARKER = 'bodymarker-7f3a9c1e5b2d8f4a6c0e';
const BODY = JSON.stringify({ type: 'invoice.paid', tenant: MARKER, note: 'x'.repeat(40) });
const signed = standardWebhooksSender({ prefix: 'msg_leak', secret: SECRET });

/** Every `size`-character window of `value`: a part of it long enough to matter. */
const windows = (value: string, size = 12): string[] => Array.from({ length: value.length - size + 1 }, (_, i) => value.slice(i, i + size));

/** A JSON.parse error as V8 words it since Node 20.11/22 (Lambda's Node 24): it quotes up to 10 characters either side of the error. */
const v8JsonError = (text: string, at: number): SyntaxError =>
  new SyntaxError(`Unexpected token '${text[at]}', ..."${text.slice(at - 10, at + 10)}"... is not valid JSON`);

/**
 * What a team's handler throws when it meets the hostile delivery, chosen by the `x-case` header. Each quotes a part
 * of the secret, the signature or the body (never the whole value, which was already left out), or is an AWS SDK
 * error of a real call to the store quoting a value the handler derived from the body.
 */
const throwers: Record<string, (event: APIGatewayProxyEvent, client: DynamoDBClient) => Promise<never>> = {
  'secret-part': async () => {
    throw new Error(`key ${SECRET.slice(8, 30)} refused downstream`);
  },
  'mac-part': async (event) => {
    const mac = String(event.headers['webhook-signature']).slice(3);
    throw new Error(`forwarding with mac ${mac.slice(4, 30)} failed`);
  },
  'body-part': async (event) => {
    throw new Error(`tenant field ${String(event.body).slice(30, 70)} unknown`);
  },
  'json-excerpt': async (event) => {
    const body = String(event.body);
    throw v8JsonError(body, body.indexOf(MARKER) + 15);
  },
  'json-parse': async (event) => {
    // A handler that forgot isBase64Encoded: V8's message quotes the first 10 characters of the text it was given.
    JSON.parse(String(event.body));
    throw new Error('unreachable');
  },
  sdk: async (event, client) => {
    const body = Buffer.from(String(event.body), event.isBase64Encoded ? 'base64' : 'utf8').toString();
    const tenant = (JSON.parse(body) as { tenant: string }).tenant;
    // DynamoDB (and dynalite) quote the refused value: "Value TENANT BODYMARKER-… at 'tableName' failed to satisfy constraint".
    await client.send(new GetItemCommand({ TableName: `TENANT ${tenant.toUpperCase()}`, Key: { pk: { S: 'x' } } }));
    throw new Error('unreachable');
  },
};

/** The cases whose error is a parser's or the AWS SDK's. */
const FOREIGN = ['json-excerpt', 'json-parse', 'sdk'];

/** The values an adversary looks for, in every form a line could carry them. */
const MAC_OF = (signature: string): string => signature.slice(3);
const forbidden = (signature: string): string[] => [
  ...windows(SECRET),
  ...windows(MAC_OF(signature)),
  ...windows(MARKER),
  ...windows(Buffer.from(BODY).toString('base64')),
];

describe.each([
  ['production (NODE_ENV=production)', { NODE_ENV: 'production' }, true],
  ['DEBUG=true in Lambda (details to the caller)', { DEBUG: 'true', AWS_LAMBDA_FUNCTION_NAME: 'hookwarden-webhook' }, false],
  ['development (npm start)', {}, false],
])('a wrapped handler that throws, over real HTTP, %s', (_mode, env, production) => {
  let h: Harness;
  let client: DynamoDBClient;
  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, ...env },
      {
        webhookHandler: (deps) =>
          withHookwarden(
            async (event) => {
              const thrower = throwers[String(event.headers['x-case'])];
              if (!thrower) return { statusCode: 202, body: '{}' };
              return thrower(event, client);
            },
            { ...deps, rateLimiter: false, controls: false },
          ),
      },
    );
    client = h.client;
  });
  afterAll(() => h.close());

  it.each(Object.keys(throwers))('%s: no 12-character part of the secret, MAC or body in a log line or the answer', async (name) => {
    const d = signed({ body: BODY });
    let status = 0;
    let answer = '';
    const lines = await jsonLinesDuring(async () => {
      const response = await h.post('/webhooks/default', d.body, { ...d.headers, 'x-case': name, 'content-type': 'application/json' });
      status = response.status;
      answer = await response.text();
    });
    expect(status).toBe(500);
    const failed = lines.find((line) => line.message === 'webhook failed');
    expect(failed).toBeDefined();
    const text = JSON.stringify(lines) + answer;
    const leaked = forbidden(d.headers['webhook-signature']).filter((window) => text.includes(window));
    expect(leaked).toEqual([]);
    const error = failed?.error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (production) {
      expect(JSON.parse(answer)).toMatchObject({ error: { code: 'internal_error', message: 'Internal server error.' } });
      if (FOREIGN.includes(name)) {
        // Someone else's message about its input is withheld, whatever it quotes (shorter than 12 characters too); what it is stays.
        expect(error.message).toBe(WITHHELD);
        for (const excerpt of [MARKER.toUpperCase().slice(0, 12), MARKER.slice(5, 15), Buffer.from(BODY).toString('base64').slice(0, 10)])
          expect(text).not.toContain(excerpt);
      }
      if (name === 'sdk') expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    } else {
      // Details stay where they were promised: the error's own words around what was left out.
      if (name !== 'json-parse' && name !== 'sdk') expect(error.message).toContain('[redacted]');
      if (!FOREIGN.includes(name)) expect(JSON.parse(answer).error.message).toContain('[redacted]');
    }
  });

  it('the whole secret thrown by the handler is in neither the answer nor the log', async () => {
    const d = signed({ body: BODY });
    const handler = withHookwarden(
      async () => {
        throw new Error(`could not verify with ${SECRET} downstream`);
      },
      { ...h.deps, rateLimiter: false, controls: false },
    );
    const event = {
      httpMethod: 'POST',
      path: '/webhooks/default',
      resource: '/webhooks/{source}',
      pathParameters: { source: 'default' },
      headers: d.headers,
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: d.body,
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: { requestId: `api-${d.id}`, identity: { sourceIp: '203.0.113.9' } },
    } as unknown as APIGatewayProxyEvent;
    let answer = '';
    const lines = await jsonLinesDuring(async () => {
      answer = (await handler(event, { awsRequestId: 'lambda-1', getRemainingTimeInMillis: () => 10_000 } as never)).body;
    });
    expect(JSON.stringify(lines) + answer).not.toContain(SECRET.slice(6, 18));
    if (!production) expect(JSON.parse(answer).error.message).toBe('Error: could not verify with [redacted] downstream');
  });
});
