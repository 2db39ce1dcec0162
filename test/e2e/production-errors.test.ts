import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_prod' });

describe.each([
  ['NODE_ENV=production', { NODE_ENV: 'production' }],
  ['DEBUG=false', { DEBUG: 'false' }],
  // Unclear settings fail closed.
  ['NODE_ENV=prod, neither development nor test', { NODE_ENV: 'prod' }],
  ["no NODE_ENV inside Lambda: a team's own function", { AWS_LAMBDA_FUNCTION_NAME: 'team-webhook' }],
])('error bodies in production (%s)', (_name, env) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, ...env });
    // A missing table makes the store fail with an unexpected (non-retryable) SDK error: a 500.
    await h.client.send(new DeleteTableCommand({ TableName: h.config.tables.deliveries }));
  });
  afterAll(() => h.close());

  it('hides the exception of a 500: generic message, request id, no stack or internal names', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal_error', message: 'Internal server error.', requestId: expect.any(String) },
    });
    for (const leak of ['ResourceNotFound', 'Exception', 'hookwarden-deliveries', 'at ', 'stack', '.ts', 'dynamodb', 'Table']) {
      expect(text).not.toContain(leak);
    }
  });

  it("keeps 4xx messages (they describe the client request, not internals), without development's reason", async () => {
    const res = await h.post('/webhooks/default', '{}', {});
    expect(res.status).toBe(401);
    const { error } = await readJson(res);
    expect(error.message).toMatch(/signature/i);
    expect(error).not.toHaveProperty('reason');
  });
});

describe('error bodies in development', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, NODE_ENV: 'development' });
    await h.client.send(new DeleteTableCommand({ TableName: h.config.tables.deliveries }));
  });
  afterAll(() => h.close());

  it('keeps the exception message of a 500 for the developer', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(500);
    expect((await readJson(res)).error.message).toMatch(/ResourceNotFound|not found|non-existent/i);
  });
});
