import { describe, expect, it } from 'vitest';
import { webhookRoute } from '../../../core/middleware/webhook-route/index.js';
import { middyRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
const route = webhookRoute({ sources, now: () => 1_800_000_000_000 });

describe('webhookRoute', () => {
  it('resolves a configured source, the headers (lower-case) and the arrival time', async () => {
    const req = middyRequest({ headers: { 'Webhook-Id': 'msg_1' } });
    await route.before!(req);
    const state = req.context.hookwarden;
    expect(state.source?.name).toBe('default');
    expect(state.headers?.get('webhook-id')).toEqual(['msg_1']);
    expect(state.receivedAt).toBe(1_800_000_000_000);
  });

  it.each(['unknown', '__proto__', 'constructor', 'toString', ''])('answers source %j with 404 not_found', async (source) => {
    const req = middyRequest({ pathParameters: { source } });
    await expect(route.before!(req)).rejects.toMatchObject({ statusCode: 404, code: 'not_found' });
    expect(req.context.hookwarden.source).toBeUndefined();
  });

  it('answers a request without a {source} with 404', async () => {
    await expect(route.before!(middyRequest({ pathParameters: null }))).rejects.toMatchObject({ statusCode: 404 });
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('answers %s with 405 and Allow: POST, OPTIONS', async (httpMethod) => {
    await expect(route.before!(middyRequest({ httpMethod }))).rejects.toMatchObject({
      statusCode: 405,
      code: 'method_not_allowed',
      headers: { Allow: 'POST, OPTIONS' },
    });
  });

  it('reads the clock from Date.now by default', async () => {
    const req = middyRequest();
    const before = Date.now();
    await webhookRoute({ sources, now: undefined }).before!(req);
    expect(req.context.hookwarden.receivedAt).toBeGreaterThanOrEqual(before);
  });
});
