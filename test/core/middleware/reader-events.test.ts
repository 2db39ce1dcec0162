import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../core/errors.js';
import { readerEvents } from '../../../core/middleware/reader-events/index.js';
import { WITHHELD } from '../../../core/redaction.js';
import { readerStateOf } from '../../../core/reader/state.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { jsonLinesDuring } from '../../helpers/json-lines.js';
import { middyRequest } from '../../helpers/middy-request.js';

const TOKEN = 'hwk_secretsecretsecretsecretsecretsecretsecre';
const events = readerEvents({ telemetry: createTelemetry() });
const refused = (error: unknown) => {
  const req = middyRequest({ httpMethod: 'GET', path: '/events', resource: '/events', headers: { authorization: `Bearer ${TOKEN}` } });
  readerStateOf(req.context).token = { id: '0123456789abcdef', name: 'ci', sources: [], createdAt: 1, expiresAt: 2 };
  req.error = error as Error;
  return req;
};

describe('readerEvents', () => {
  it('logs a refusal as one security event with the token id, never the token, and counts ApiRequestRejected by code', async () => {
    const lines = await jsonLinesDuring(() =>
      events.onError!(refused(new HttpError(403, 'token_scope', 'This read token does not cover that source.'))),
    );
    expect(lines.find((l) => l.message === 'api request rejected')).toMatchObject({
      level: 'WARN',
      securityEvent: {
        code: 'token_scope',
        statusCode: 403,
        tokenId: '0123456789abcdef',
        path: '/events',
        clientIp: '203.0.113.9',
        requestId: 'api-request-1',
      },
    });
    const metric = lines.find((l) => '_aws' in l && 'ApiRequestRejected' in l);
    expect(metric).toMatchObject({ code: 'token_scope', ApiRequestRejected: 1 });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });

  it('logs an unexpected error as a failure, counted as no refusal', async () => {
    const lines = await jsonLinesDuring(() => events.onError!(refused(new Error('index unreadable'))));
    expect(lines.find((l) => l.message === 'api request failed')).toMatchObject({ level: 'ERROR', code: 'internal_error' });
    expect(lines.some((l) => 'ApiRequestRejected' in l)).toBe(false);
  });

  /** Every 12-character part of `value`. */
  const parts = (value: string): string[] => Array.from({ length: value.length - 11 }, (_, i) => value.slice(i, i + 12));
  const QUERY_TOKEN = 'hwk_querytokenquerytokenquerytokenquerytoken';

  it.each([
    ['the token whole', new Error(`token ${TOKEN} refused by the cache`)],
    ['the token without its prefix', new Error(`lookup of ${TOKEN.slice(4)} failed`)],
    ['a part of the token', new Error(`bad credential ${TOKEN.slice(10, 34)}`)],
    ['the Authorization header', Object.assign(new Error('upstream 500'), { request: { headers: { authorization: `Bearer ${TOKEN}` } } })],
    ['a token sent in the query string', new Error(`unexpected ?access_token=${QUERY_TOKEN}`)],
  ])('an unexpected error quoting %s is logged without it', async (_name, error) => {
    const request = refused(error);
    request.event.queryStringParameters = { access_token: QUERY_TOKEN, limit: '10' };
    const lines = await jsonLinesDuring(() => events.onError!(request));
    const failed = lines.find((l) => l.message === 'api request failed');
    expect(JSON.stringify(failed)).toContain('[redacted]');
    const text = JSON.stringify(lines);
    for (const part of [...parts(TOKEN), ...parts(QUERY_TOKEN)]) expect(text).not.toContain(part);
  });

  it("withholds an AWS SDK error's message in production (it may quote what it refused), keeping what it is", async () => {
    const error = new DynamoDBServiceException({
      name: 'ValidationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'ddb-1' },
      message: "1 validation error detected: Value 'tenant-acme-7731' at 'tableName' failed to satisfy constraint",
    });
    for (const [production, message] of [
      [true, WITHHELD],
      [false, error.message],
    ] as const) {
      const lines = await jsonLinesDuring(() => readerEvents({ telemetry: createTelemetry(), production }).onError!(refused(error)));
      expect(lines.find((l) => l.message === 'api request failed')?.error).toMatchObject({
        name: 'ValidationException',
        message,
        $metadata: { httpStatusCode: 400, requestId: 'ddb-1' },
      });
    }
  });
});
