import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../core/config/index.js';
import { createWebhookHandler, type HttpHandler } from '../../../core/pipeline.js';
import { standardWebhooks } from '../../../core/schemes/index.js';
import { secretsManagerProviders } from '../../../core/secrets/secrets-manager.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { createTelemetry, type Telemetry } from '../../../core/telemetry.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { localContext } from '../../../local/http-adapter.js';
import { emptyDir } from '../../helpers/harness.js';
import { webhookPost } from '../../helpers/proxy-event.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

// Secrets Manager has no local server: aws-sdk-client-mock stands in for it; deliveries go to dynalite.
const sm = mockClient(SecretsManagerClient);
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden/default-AbCdEf';
const OLD = TEST_SECRETS.standardWebhooks;
const NEW = TEST_SECRETS.standardWebhooksSecond;
const CACHE_SECONDS = 300;
const document = (...secrets: string[]) => ({ SecretString: JSON.stringify({ keys: secrets.map((secret) => ({ secret })) }) });
const outage = Object.assign(new Error('Service unavailable'), { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } });

/**
 * A rotation staged a new key and the sender switched to it, but this
 * container's Secrets Manager reads fail: its keys are past their cache period.
 * A delivery signed with the new key must come back as "retry later" (our
 * fault, counted as a 5xx), never as "invalid" (the sender's fault, counted as
 * an authentication failure that points the operator at the wrong secret).
 */
describe('a container whose key document cannot be refreshed', () => {
  let local: LocalStore;
  let telemetry: Telemetry;
  let handler: HttpHandler;
  /** The key cache's clock; signatures use the real one. */
  let clock = 0;
  let n = 0;

  const delivery = (secret: string, options: { id?: string; at?: Date } = {}) => {
    const body = JSON.stringify({ type: 'invoice.paid', n: (n += 1) });
    const id = options.id ?? `msg_stale_${n}`;
    return webhookPost(
      body,
      standardWebhooks.sign(secret, {
        body: Buffer.from(body),
        id,
        timestampSeconds: Math.floor((options.at ?? new Date()).getTime() / 1000),
      }),
      id,
    );
  };
  const answer = async (event: ReturnType<typeof delivery>) => {
    const response = await handler(event, localContext('test'));
    return {
      status: response.statusCode,
      body: JSON.parse(response.body) as { error?: { code: string }; status?: string },
      headers: response.headers ?? {},
    };
  };

  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());
  beforeEach(() => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves(document(OLD));
    clock = 1_900_000_000_000;
    const config = loadConfig(
      {
        HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'default', scheme: 'standard-webhooks', secretArn: SECRET_ID }] }),
        NODE_ENV: 'production',
      },
      emptyDir(),
    );
    telemetry = createTelemetry();
    handler = createWebhookHandler({
      config,
      store: new DynamoDbDeliveryStore({ client: local.client, tableName: config.tables.deliveries }),
      telemetry,
      secretProviders: secretsManagerProviders(new SecretsManagerClient({}), { now: () => clock }),
    });
  });

  it('refuses an unknown key with 401 while its keys are fresh, even when the sender switched already', async () => {
    expect((await answer(delivery(OLD))).status).toBe(202);
    sm.on(GetSecretValueCommand).resolves(document(NEW, OLD));
    clock += (CACHE_SECONDS - 1) * 1000;
    expect(await answer(delivery(NEW))).toMatchObject({ status: 401, body: { error: { code: 'signature_invalid' } } });
  });

  it('answers a signature matching no cached key 503 with Retry-After, and takes the same delivery once it can read the new key', async () => {
    expect((await answer(delivery(OLD))).status).toBe(202);
    sm.on(GetSecretValueCommand).rejects(outage);
    clock += (CACHE_SECONDS + 1) * 1000;
    const errors = vi.spyOn(telemetry.logger, 'error');

    const signedWithNew = delivery(NEW, { id: 'msg_stale_switched' });
    const refused = await answer(signedWithNew);
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } }, headers: { 'Retry-After': '5' } });
    // The log says why; the response does not (production).
    expect(JSON.stringify(refused.body)).not.toMatch(/cached key|secret could not/);
    expect(errors.mock.calls.map(([message]) => message)).toContain('webhook failed');

    // The old key still works from the cache: an outage does not stop deliveries it can verify.
    expect((await answer(delivery(OLD))).status).toBe(202);

    // Secrets Manager answers again, with the rotation's new key: the sender's retry is taken, once.
    sm.on(GetSecretValueCommand).resolves(document(NEW, OLD));
    clock += 5_000;
    expect(await answer(signedWithNew)).toMatchObject({ status: 202 });
    expect(await answer(signedWithNew)).toMatchObject({ status: 200, body: { status: 'duplicate' } });
  });

  it('still answers 401 for what no key could change: a missing signature, a bad or stale timestamp', async () => {
    expect((await answer(delivery(OLD))).status).toBe(202);
    sm.on(GetSecretValueCommand).rejects(outage);
    clock += (CACHE_SECONDS + 1) * 1000;
    const unsigned = delivery(OLD);
    delete unsigned.headers['webhook-signature'];
    expect(await answer(unsigned)).toMatchObject({ status: 401, body: { error: { code: 'signature_invalid' } } });
    const badTimestamp = delivery(OLD);
    badTimestamp.headers['webhook-timestamp'] = 'soon';
    expect(await answer(badTimestamp)).toMatchObject({ status: 401, body: { error: { code: 'timestamp_invalid' } } });
    const old = delivery(OLD, { at: new Date(Date.now() - 3_600_000) });
    expect(await answer(old)).toMatchObject({ status: 401, body: { error: { code: 'timestamp_out_of_range' } } });
  });

  it('answers 401 for a stale timestamp signed by a key it does not hold: no key could accept it, so no retry can', async () => {
    expect((await answer(delivery(OLD))).status).toBe(202);
    sm.on(GetSecretValueCommand).rejects(outage);
    clock += (CACHE_SECONDS + 1) * 1000;
    const old = delivery(NEW, { at: new Date(Date.now() - 3_600_000) });
    expect(await answer(old)).toMatchObject({ status: 401, body: { error: { code: 'signature_invalid' } } });
  });

  it('is fresh again after a successful read: an unknown key is 401 again', async () => {
    expect((await answer(delivery(OLD))).status).toBe(202);
    sm.on(GetSecretValueCommand).rejects(outage);
    clock += (CACHE_SECONDS + 1) * 1000;
    expect((await answer(delivery(NEW))).status).toBe(503);
    sm.on(GetSecretValueCommand).resolves(document(OLD));
    clock += 5_000;
    expect(await answer(delivery(NEW))).toMatchObject({ status: 401, body: { error: { code: 'signature_invalid' } } });
  });

  // The emergency stop of a source's keys: an operator empties its document. Read as malformed, it left this warm
  // container verifying with its last good keys (the leaked one too) until its next cold start.
  it('refuses every delivery once an emptied key document ({"keys":[]}) is read: 503 with Retry-After, logged; a key put back is taken', async () => {
    expect((await answer(delivery(OLD))).status).toBe(202);
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"keys":[]}' });
    clock += (CACHE_SECONDS - 1) * 1000;
    expect((await answer(delivery(OLD))).status).toBe(202);
    clock += 2_000;
    const errors = vi.spyOn(telemetry.logger, 'error');
    const refused = await answer(delivery(OLD));
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } }, headers: { 'Retry-After': '5' } });
    expect(JSON.stringify(refused.body)).not.toMatch(/lists no key/);
    expect(errors.mock.calls.map(([message]) => message)).toContain('webhook failed');
    expect(JSON.stringify(errors.mock.calls)).toMatch(/the secret document lists no key/);
    expect(JSON.stringify(errors.mock.calls)).not.toContain(OLD);
    expect((await answer(delivery(NEW))).status).toBe(503);
    // A key put back is read within the backoff, not at the end of a cache period.
    sm.on(GetSecretValueCommand).resolves(document(NEW));
    clock += 5_000;
    expect((await answer(delivery(NEW))).status).toBe(202);
    expect(await answer(delivery(OLD))).toMatchObject({ status: 401, body: { error: { code: 'signature_invalid' } } });
  });
});
