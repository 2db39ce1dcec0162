import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../core/config/index.js';
import { createWebhookHandler, type HttpHandler } from '../../../core/pipeline.js';
import { github, standardWebhooks } from '../../../core/schemes/index.js';
import { secretsManagerProviders } from '../../../core/secrets/secrets-manager.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { createTelemetry, METRIC, type Telemetry } from '../../../core/telemetry.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { localContext } from '../../../local/http-adapter.js';
import { emptyDir } from '../../helpers/harness.js';
import { webhookPost } from '../../helpers/proxy-event.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

// Secrets Manager has no local server: aws-sdk-client-mock stands in for it; deliveries go to dynalite.
const sm = mockClient(SecretsManagerClient);
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden/default-AbCdEf';
/** Decodes to 5 bytes: a key a hurried rotation could paste. */
const UNDECODABLE = 'whsec_c2hvcnQ=';

const event = (body: string, headers: Record<string, string>) => webhookPost(body, headers, 'req-keys');

describe('a Secrets Manager key document with an unusable key', () => {
  let local: LocalStore;
  let telemetry: Telemetry;
  let handler: HttpHandler;
  let metricNames: string[];
  /** The values SecretKeyUnusable was published with, in order. */
  let unusableCounts: number[];
  let n = 0;

  /** A fresh handler (cold start) over the document the mock serves. */
  const coldStart = (keys: unknown[], scheme = 'standard-webhooks', now?: () => number): void => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ keys }) });
    const config = loadConfig(
      { HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'default', scheme, secretArn: SECRET_ID }] }), NODE_ENV: 'production' },
      emptyDir(),
    );
    telemetry = createTelemetry();
    metricNames = [];
    unusableCounts = [];
    const single = telemetry.metrics.singleMetric.bind(telemetry.metrics);
    vi.spyOn(telemetry.metrics, 'singleMetric').mockImplementation(() => {
      const metric = single();
      const add = metric.addMetric.bind(metric);
      vi.spyOn(metric, 'addMetric').mockImplementation((name, ...rest) => {
        metricNames.push(name);
        if (name === METRIC.secretKeyUnusable) unusableCounts.push(rest[1] as number);
        return add(name, ...rest);
      });
      return metric;
    });
    handler = createWebhookHandler({
      config,
      store: new DynamoDbDeliveryStore({ client: local.client, tableName: config.tables.deliveries }),
      telemetry,
      secretProviders: secretsManagerProviders(new SecretsManagerClient({}), now ? { now } : {}),
    });
  };

  const signed = () => {
    const body = JSON.stringify({ type: 'ping', n: (n += 1) });
    return event(body, standardWebhooks.sign(TEST_SECRETS.standardWebhooks, { body: Buffer.from(body) }));
  };

  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());
  beforeEach(() => vi.restoreAllMocks());

  it('skips it: the valid key keeps working, one security event names the position (never the value) and a metric counts it', async () => {
    coldStart([{ secret: UNDECODABLE }, { secret: TEST_SECRETS.standardWebhooks }]);
    const errors = vi.spyOn(telemetry.logger, 'error');
    for (let i = 0; i < 3; i++) expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    const events = errors.mock.calls.filter(([message]) => message === 'secret key unusable');
    expect(events).toHaveLength(1); // once per key set, not per request
    expect(events[0]?.[1]).toEqual({
      securityEvent: expect.objectContaining({ code: 'secret_key_unusable', source: 'default', key: `${SECRET_ID} keys[0]` }),
    });
    expect(JSON.stringify(events)).not.toContain('c2hvcnQ');
    expect(unusableCounts).toEqual([1]); // once per key set, not per request
  });

  it('answers 503 unavailable, never 500, when no key in the document is usable', async () => {
    coldStart([{ secret: UNDECODABLE }, { secret: 'whsec_dG9vLXNob3J0LWtleQ==' }]);
    const answer = await handler(signed(), localContext('test'));
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'unavailable' } });
    expect(answer.headers?.['Retry-After']).toBe('5');
    expect(unusableCounts).toEqual([2]);
  });

  it('refuses a key shorter than 16 bytes in the document, as it would from the environment', async () => {
    coldStart([{ secret: TEST_SECRETS.github }, { secret: 'x' }], 'github');
    const body = '{"zen":"Keep it logically awesome."}';
    const forged = event(body, github.sign('x', { body: Buffer.from(body) }));
    expect((await handler(forged, localContext('test'))).statusCode).toBe(401);
    expect(metricNames).toContain(METRIC.secretKeyUnusable);
    const good = event(body, github.sign(TEST_SECRETS.github, { body: Buffer.from(body) }));
    expect((await handler(good, localContext('test'))).statusCode).toBe(202);
  });

  it('skips a malformed entry (no string secret, a bad notAfter) like an undecodable key, instead of taking the source down', async () => {
    coldStart([
      { secret: 42 },
      { secret: TEST_SECRETS.standardWebhooks },
      { secret: TEST_SECRETS.standardWebhooksSecond, notAfter: 'tomorrow' },
    ]);
    const errors = vi.spyOn(telemetry.logger, 'error');
    for (let i = 0; i < 2; i++) expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    const events = errors.mock.calls.filter(([message]) => message === 'secret key unusable').map(([, fields]) => fields);
    expect(events).toEqual([
      {
        securityEvent: expect.objectContaining({
          code: 'secret_key_unusable',
          source: 'default',
          key: `${SECRET_ID} keys[0]`,
          problem: 'keys[0].secret must be a non-empty string',
        }),
      },
      { securityEvent: expect.objectContaining({ key: `${SECRET_ID} keys[2]`, problem: 'keys[2].notAfter must be epoch seconds' }) },
    ]);
    expect(JSON.stringify(events)).not.toContain(TEST_SECRETS.standardWebhooksSecond);
    expect(unusableCounts).toEqual([2]);
  });

  it('publishes 0 unusable keys once the document is fixed, even by deleting the bad entry, so the alarm can clear (and only then)', async () => {
    // The secrets cache's clock, moved by hand; signing and verification keep the real one.
    let clock = Date.now();
    coldStart([{ secret: 42 }, { secret: TEST_SECRETS.standardWebhooks }], 'standard-webhooks', () => clock);
    for (let i = 0; i < 3; i++) expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    // Re-read after the cache period, still broken: no new datapoint, and the alarm (missing data ignored) stays in ALARM.
    clock += 301_000;
    expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(unusableCounts).toEqual([1]);
    // Fixed by deleting the malformed entry: the valid keys are the same, the report is not.
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ keys: [{ secret: TEST_SECRETS.standardWebhooks }] }) });
    clock += 301_000;
    expect((await handler(signed(), localContext('test'))).statusCode).toBe(202);
    expect(unusableCounts).toEqual([1, 0]);
  });

  it('answers 503 unavailable when no entry of the document is well-formed', async () => {
    coldStart([{ secret: 42 }, { notAfter: 1 }]);
    const answer = await handler(signed(), localContext('test'));
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'unavailable' } });
  });
});
