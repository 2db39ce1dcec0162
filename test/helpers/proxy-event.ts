import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * A REST proxy event of `POST /webhooks/default` with a JSON body and `headers`
 * (single values), from 203.0.113.9: what a handler test feeds the webhook
 * function directly, without HTTP.
 */
export const webhookPost = (body: string, headers: Record<string, string>, requestId = 'req-test'): APIGatewayProxyEvent =>
  ({
    resource: '/webhooks/{source}',
    path: '/webhooks/default',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    multiValueHeaders: {},
    pathParameters: { source: 'default' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: { requestId, identity: { sourceIp: '203.0.113.9' } },
  }) as unknown as APIGatewayProxyEvent;

/**
 * A REST proxy event of `GET path` with `headers` (each also as its one multi-value), from
 * 203.0.113.9: what a test feeds the reader or events handler directly, without HTTP.
 */
export const readerGet = (path: string, headers: Record<string, string>, requestId = 'req-test'): APIGatewayProxyEvent =>
  ({
    resource: path,
    path,
    httpMethod: 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId, identity: { sourceIp: '203.0.113.9' } },
  }) as unknown as APIGatewayProxyEvent;
