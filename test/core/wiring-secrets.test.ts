import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { createWebhookHandler } from '../../core/pipeline.js';
import { standardWebhooks } from '../../core/schemes/index.js';
import { wireDependencies } from '../../core/wiring.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { localContext } from '../../local/http-adapter.js';
import { emptyDir } from '../helpers/harness.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

// The webhook function's own wiring (wireDependencies with no secret providers given), whose
// Secrets Manager client is made, and its SDK module imported, on the first Secrets Manager read.
// Secrets Manager has no local server: aws-sdk-client-mock stands in for it; deliveries go to dynalite.
const sm = mockClient(SecretsManagerClient);
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden/default-AbCdEf';

let n = 0;
const signed = () => {
  const body = JSON.stringify({ type: 'ping', n: (n += 1) });
  return webhookPost(body, standardWebhooks.sign(TEST_SECRETS.standardWebhooks, { body: Buffer.from(body) }), 'req-wiring');
};

describe("the webhook function's wiring and Secrets Manager", () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());
  beforeEach(() => sm.reset());

  const handlerFor = (env: NodeJS.ProcessEnv) =>
    createWebhookHandler(
      wireDependencies({ config: loadConfig(env, emptyDir()), dynamoDb: local.client, rateLimiter: false, controls: false }),
    );

  it('reads a secretArn source through Secrets Manager, once per cache period', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ keys: [{ secret: TEST_SECRETS.standardWebhooks }] }) });
    const handler = handlerFor({
      HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'default', scheme: 'standard-webhooks', secretArn: SECRET_ID }] }),
    });
    for (let i = 0; i < 3; i++) expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    expect(sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: SECRET_ID }]);
  });

  it('never asks Secrets Manager for a source whose secret is in the environment', async () => {
    const handler = handlerFor({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
    expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    expect(sm.calls()).toHaveLength(0);
  });
});
