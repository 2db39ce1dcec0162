import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { markRunsOnPastTimeout } from '../core/deadline.js';

/** What reading a body gave: the bytes, a refusal past the limit, or a client that went away. */
export type BodyRead = { readonly kind: 'body'; readonly body: Buffer } | { readonly kind: 'too_large' } | { readonly kind: 'aborted' };

/**
 * Reads a request body up to `limitBytes`. Past the limit it stops reading at
 * once (a chunked body has no Content-Length to refuse up front) and answers
 * `too_large`; the caller closes the connection. A client that disconnects
 * mid-body is `aborted`, never an error: that is the client's doing.
 */
export const readBody = (req: IncomingMessage, limitBytes: number): Promise<BodyRead> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      req.pause();
      settle({ kind: 'too_large' });
    };
    req.on('data', onData);
    req.on('end', () => settle({ kind: 'body', body: Buffer.concat(chunks) }));
    req.on('error', () => settle({ kind: 'aborted' }));
    req.on('close', () => settle(req.complete ? { kind: 'body', body: Buffer.concat(chunks) } : { kind: 'aborted' }));
  });

/**
 * Translates a Node request into an API Gateway REST proxy event as API Gateway
 * builds it: header names as sent (each under its first spelling), multi-value headers, every body base64 (the
 * deployed API declares `*\/*` binary, so the bytes arrive exact), and the TCP
 * peer as `requestContext.identity.sourceIp`.
 */
export const toProxyEvent = (
  req: IncomingMessage,
  body: Buffer,
  route: { readonly resource: string; readonly pathParameters: Record<string, string> | null },
  requestId: string = randomUUID(),
  /** The request's URL when the caller has parsed it already (the local server has, to route). */
  url: URL = requestUrl(req) ?? new URL('http://localhost/'),
): APIGatewayProxyEvent => {
  // Keyed by names the client chose: no prototype, so `__proto__` or `constructor` is just a name.
  const headers = Object.create(null) as Record<string, string>;
  const multiValueHeaders = Object.create(null) as Record<string, string[]>;
  // Each name under its first spelling, its lines in the order sent: grouped by exact spelling, a client's
  // `x-forwarded-for` line moved after the `X-Forwarded-For` line a proxy added last, and was read as the proxy's hop.
  const spellings = Object.create(null) as Record<string, string>;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const sent = req.rawHeaders[i] as string;
    const name = sent in multiValueHeaders ? sent : (spellings[sent.toLowerCase()] ??= sent);
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query = Object.create(null) as Record<string, string>;
  const multiQuery = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    (multiQuery[key] ??= []).push(value);
  }
  return {
    resource: route.resource,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: url.searchParams.size > 0 ? query : null,
    multiValueQueryStringParameters: url.searchParams.size > 0 ? multiQuery : null,
    pathParameters: route.pathParameters,
    stageVariables: null,
    body: body.length === 0 ? null : body.toString('base64'),
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.resource,
      identity: {
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
  };
};

/** The request's URL, or `undefined` when the request target does not parse as one. */
export const requestUrl = (req: IncomingMessage): URL | undefined => {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
};

/**
 * A Lambda context for a local invocation, marked as one whose handler is not ended at its timeout (nothing here
 * kills it): a wrapped handler's delivery lease is kept alive while it runs ({@link markRunsOnPastTimeout}).
 */
export const localContext = (functionName: string, timeoutMs = 10_000): Context => {
  const deadline = Date.now() + timeoutMs;
  return markRunsOnPastTimeout({
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  });
};

/** Writes a proxy result to the Node response (multi-value headers included, base64 bodies decoded). */
export const sendResult = (res: ServerResponse, result: APIGatewayProxyResult): void => {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) res.setHeader(name, values.map(String));
  res.statusCode = result.statusCode;
  res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
};

/**
 * Writes a streaming answer (the event stream): status and headers at once,
 * then the body as it comes; a client that goes away ends the stream (and so
 * its polling).
 */
export const sendStream = (
  res: ServerResponse,
  result: { readonly statusCode: number; readonly headers?: APIGatewayProxyResult['headers']; readonly body: Readable },
): void => {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  res.statusCode = result.statusCode;
  res.flushHeaders();
  res.on('close', () => result.body.destroy());
  result.body.pipe(res);
};
