import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../core/errors.js';
import { readerEvents } from '../../../core/middleware/reader-events/index.js';
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
});
