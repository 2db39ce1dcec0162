import { describe, expect, it } from 'vitest';
import { DuplicateDeliveryError, HttpError } from '../../../core/errors.js';
import { securityEvents } from '../../../core/middleware/security-events/index.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { jsonLinesDuring } from '../../helpers/json-lines.js';
import { middyRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
const events = securityEvents({ telemetry: createTelemetry() });
const BODY = '{"card":"4242424242424242"}';

/** A request that reached `error` (or, without one, succeeded) for the default source. */
const request = (error?: unknown, source = true) => {
  const req = middyRequest({ body: BODY, path: '/webhooks/\u001b[31mnope' });
  if (source) req.context.hookwarden.source = sources.get('default');
  req.context.hookwarden.body = Buffer.from(BODY);
  if (error) req.error = error as Error;
  return req;
};

describe('securityEvents', () => {
  it('logs an accepted delivery at info and counts it by source', async () => {
    const req = request();
    req.context.hookwarden.delivery = { ok: true, deliveryId: 'msg_1', eventType: 'invoice.paid' } as never;
    req.response = { statusCode: 202, body: '' };
    const lines = await jsonLinesDuring(() => events.after!(req));
    expect(lines.find((l) => l.message === 'webhook accepted')).toMatchObject({
      level: 'INFO',
      source: 'default',
      deliveryId: 'msg_1',
      requestId: 'api-request-1',
    });
    expect(lines.find((l) => 'DeliveryAccepted' in l)).toMatchObject({ DeliveryAccepted: 1, source: 'default' });
  });

  it.each([503, 400, undefined])('logs a delivery a wrapped handler answered %s as declined, not accepted', async (statusCode) => {
    const req = request();
    req.context.hookwarden.delivery = { ok: true, deliveryId: 'msg_3', eventType: 'invoice.paid' } as never;
    if (statusCode !== undefined) req.response = { statusCode, body: '' };
    const lines = await jsonLinesDuring(() => events.after!(req));
    expect(lines.find((l) => l.message === 'webhook declined by the handler')).toMatchObject({
      level: 'WARN',
      source: 'default',
      deliveryId: 'msg_3',
      ...(statusCode === undefined ? {} : { statusCode }),
    });
    expect(lines.some((l) => l.message === 'webhook accepted' || 'DeliveryAccepted' in l)).toBe(false);
  });

  it('logs a rejection as one security event with code, status and reason, never the body', async () => {
    const error = new HttpError(401, 'signature_invalid', 'The webhook signature is missing or invalid.', {
      details: { reason: 'no signature matches any secret' },
    });
    const lines = await jsonLinesDuring(() => events.onError!(request(error)));
    const rejected = lines.filter((l) => l.message === 'webhook rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      level: 'WARN',
      securityEvent: { code: 'signature_invalid', statusCode: 401, source: 'default', clientIp: '203.0.113.9' },
    });
    expect(JSON.stringify(lines)).not.toContain('4242424242424242');
  });

  it('logs a duplicate at info, not as a rejection', async () => {
    const lines = await jsonLinesDuring(() => events.onError!(request(new DuplicateDeliveryError('msg_2'))));
    expect(lines.find((l) => l.message === 'webhook duplicate')).toMatchObject({ level: 'INFO', deliveryId: 'msg_2' });
    expect(lines.some((l) => l.message === 'webhook rejected')).toBe(false);
  });

  it('names an unknown source by a fixed value and logs its path escaped', async () => {
    const lines = await jsonLinesDuring(() => events.onError!(request(new HttpError(404, 'not_found', 'Not found.'), false)));
    const line = JSON.stringify(lines);
    expect(line).not.toContain('\u001b');
    expect(line).toContain('\\\\x1b[31mnope');
  });

  it('logs an unexpected error at error level as webhook failed', async () => {
    const lines = await jsonLinesDuring(() => events.onError!(request(new Error('downstream exploded'))));
    expect(lines.find((l) => l.message === 'webhook failed')).toMatchObject({ level: 'ERROR', code: 'internal_error', source: 'default' });
  });
});
