import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** What the client sent to the HTTP API: header lines in order (a name may repeat, in any case), the body, the TCP peer. */
export interface HttpApiRequest {
  readonly method: string;
  readonly path: string;
  readonly resource?: string;
  readonly pathParameters?: Record<string, string> | null;
  /** Header lines as the client wrote them; a repeated name is a repeated line. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Buffer;
  /** The body as API Gateway hands it over: base64 (binary) or text. @default false */
  readonly base64?: boolean;
  /** The TCP peer (`requestContext.identity.sourceIp`). @default '198.51.100.7' */
  readonly sourceIp?: string;
}

/**
 * An event as an API Gateway HTTP API builds it with payload format 1.0 on the
 * `$default` stage, after AWS's documented example ("Create AWS Lambda proxy
 * integrations for HTTP APIs", payload format 1.0, header names in lower
 * case): `version: '1.0'`; `headers` keeps the last value of a repeated
 * header and `multiValueHeaders` every value, in order; the peer appended as the
 * last `x-forwarded-for` entry (to the client's own first line, if it sent one);
 * `requestContext.identity.sourceIp`; and a body passed as text
 * (`isBase64Encoded: false`) unless binary.
 */
export const httpApiV1Event = (request: HttpApiRequest): APIGatewayProxyEvent => {
  const sourceIp = request.sourceIp ?? '198.51.100.7';
  const lines: [string, string][] = [
    ['content-length', String(request.body?.length ?? 0)],
    ['host', 'abc123.execute-api.us-east-1.amazonaws.com'],
    ['user-agent', 'provider-sender/1.0'],
    ['x-amzn-trace-id', 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e'],
    ['x-forwarded-port', '443'],
    ['x-forwarded-proto', 'https'],
  ];
  let forwarded = false;
  for (const [sent, value] of request.headers ?? []) {
    const name = sent.toLowerCase();
    if (!forwarded && name === 'x-forwarded-for') {
      forwarded = true;
      lines.push([name, `${value}, ${sourceIp}`]);
    } else lines.push([name, value]);
  }
  if (!forwarded) lines.push(['x-forwarded-for', sourceIp]);
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const multiValueHeaders: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of lines) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const base64 = request.base64 ?? false;
  const resource = request.resource ?? request.path;
  return {
    version: '1.0',
    resource,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: request.pathParameters ?? null,
    stageVariables: null,
    body: request.body === undefined ? null : base64 ? request.body.toString('base64') : request.body.toString('utf8'),
    isBase64Encoded: request.body !== undefined && base64,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: { claims: null, scopes: null },
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      extendedRequestId: `ext-${randomUUID()}`,
      httpMethod: request.method,
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
      path: request.path,
      protocol: 'HTTP/1.1',
      requestId: `req-${randomUUID()}`,
      requestTime: '29/Nov/2026:18:30:00 +0000',
      requestTimeEpoch: Date.now(),
      resourceId: null,
      resourcePath: resource,
      stage: '$default',
    },
  } as unknown as APIGatewayProxyEvent;
};

/** A `POST /webhooks/{source}` through the HTTP API's webhook route. */
export const httpApiWebhookEvent = (
  source: string,
  headers: readonly (readonly [string, string])[],
  body: Buffer,
  options: Pick<HttpApiRequest, 'base64' | 'sourceIp'> = {},
): APIGatewayProxyEvent =>
  httpApiV1Event({
    method: 'POST',
    path: `/webhooks/${source}`,
    resource: '/webhooks/{source}',
    pathParameters: { source },
    headers,
    body,
    ...options,
  });
