import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createTelemetry,
  DynamoDbControlsStore,
  DynamoDbDeliveryStore,
  environmentSecretProviders,
  loadConfig,
  replayGuard,
  withHookwarden,
  type WebhookHandler,
} from '../../core/index.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { localContext } from '../../local/http-adapter.js';
import { emptyDir } from '../helpers/harness.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_options', secret: SECRET });
const accept: WebhookHandler = async () => ({ statusCode: 202, body: '' });

/** What `withHookwarden` throws for `options` (a JavaScript caller's, without types), or `undefined`. */
const refusal = (options: unknown, handler: unknown = accept): ConfigError | undefined => {
  try {
    withHookwarden(handler as WebhookHandler, options as never);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
};

/**
 * A team calls `withHookwarden` from JavaScript without types (or with a cast): each option that is not what it must
 * be is a ConfigError at cold start naming it, with every other problem, never a 500 per delivery or a check dropped.
 */
describe('withHookwarden options from JavaScript without types', () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());

  const valid = () => ({
    config: loadConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: SECRET }, emptyDir()),
    dynamoDb: local.client,
    secretProviders: environmentSecretProviders,
    telemetry: createTelemetry(),
  });

  it('controls: null is refused (it dropped the blocklist, as false does: a blocked address delivered); left out, it applies', async () => {
    const config = valid().config;
    const nowSeconds = Math.floor(Date.now() / 1000);
    await new DynamoDbControlsStore({ client: local.client, tableName: config.tables.rateLimits }).block({
      range: '203.0.113.9',
      expiresAt: nowSeconds + 3600,
      reason: 'test',
      createdAt: nowSeconds,
    });
    // Left out, the blocklist is read from the table: the blocked address is refused.
    const guarded = withHookwarden(accept, { ...valid(), rateLimiter: false });
    const d = signed();
    expect((await guarded(webhookPost(d.body, d.headers), localContext('webhook'))).statusCode).toBe(403);
    // null is not `false`: a JavaScript caller's "none" must not switch the blocklist off without a word.
    const error = refusal({ ...valid(), rateLimiter: false, controls: null });
    expect(error?.problems).toEqual(['options.controls: must be an object with current() (false to leave it out), got null']);
  });

  it.each<[string, Record<string, unknown>, string | RegExp]>([
    ['rateLimiter: null', { rateLimiter: null }, 'options.rateLimiter: must be an object with hit() (false to leave it out), got null'],
    ['controls: true', { controls: true }, 'options.controls: must be an object with current() (false to leave it out), got true'],
    [
      'a store without release',
      { store: { claim() {}, complete() {}, get() {} } },
      'options.store: must be an object with release(), got an object',
    ],
    ['a dynamoDb that is a string', { dynamoDb: 'http://localhost:8000' }, 'options.dynamoDb: must be an object with send(), got a string'],
    ['telemetry of its own shape', { telemetry: { log() {} } }, 'options.telemetry: must be what createTelemetry returns, got an object'],
    ['secretProviders as a list', { secretProviders: [SECRET] }, 'options.secretProviders: must be a function, got an array'],
    ['now as a number', { now: 1_700_000_000_000 }, 'options.now: must be a function, got 1700000000000'],
    // A clock that gives no epoch milliseconds made every freshness comparison false: any timestamp passed.
    [
      'now giving the function Date.now',
      { now: () => Date.now },
      'options.now: must return epoch milliseconds, as Date.now does, got a function',
    ],
    [
      'now giving seconds',
      { now: () => Math.floor(Date.now() / 1000) },
      /^options\.now: must return epoch milliseconds, as Date\.now does, got \d{10}$/,
    ],
    ['now giving NaN', { now: () => Number.NaN }, 'options.now: must return epoch milliseconds, as Date.now does, got NaN'],
    [
      'now that throws',
      {
        now: () => {
          throw new TypeError('clock');
        },
      },
      'options.now: threw when read (TypeError): it must return epoch milliseconds, as Date.now does',
    ],
    ['config of its own shape', { config: { sources: {} } }, 'options.config: must be what loadConfig returns, got an object'],
    // NaN left the store calls without a deadline; below 1, every delivery was 503.
    [
      'requestBudgetMs: NaN',
      { requestBudgetMs: Number.NaN },
      'options.requestBudgetMs: must be a whole number of milliseconds from 1 to 900000, got NaN',
    ],
    [
      'requestBudgetMs: -1',
      { requestBudgetMs: -1 },
      'options.requestBudgetMs: must be a whole number of milliseconds from 1 to 900000, got -1',
    ],
    // NaN failed every delivery with a DynamoDB ValidationException (500).
    ['leaseSeconds: NaN', { leaseSeconds: Number.NaN }, 'options.leaseSeconds: must be a whole number of seconds from 1 to 86400, got NaN'],
    ['leaseSeconds: "30"', { leaseSeconds: '30' }, 'options.leaseSeconds: must be a whole number of seconds from 1 to 86400, got a string'],
  ])('%s: a ConfigError naming it', (_name, bad, problem) => {
    const problems = refusal({ ...valid(), rateLimiter: false, controls: false, ...bad })?.problems;
    expect(problems).toHaveLength(1);
    if (typeof problem === 'string') expect(problems).toEqual([problem]);
    else expect(problems?.[0]).toMatch(problem);
  });

  it('every problem at once: the handler, each option and the configuration', () => {
    const error = refusal(
      { env: { NODE_ENV: 'production' }, dynamoDb: local.client, controls: null, requestBudgetMs: Number.NaN, leaseSeconds: 0 },
      'handler.js',
    );
    expect(error?.problems).toEqual([
      'handler: must be a function, got a string',
      'options.leaseSeconds: must be a whole number of seconds from 1 to 86400, got 0',
      'options.controls: must be an object with current() (false to leave it out), got null',
      'options.requestBudgetMs: must be a whole number of milliseconds from 1 to 900000, got NaN',
      expect.stringMatching(/WEBHOOK_SECRET/),
    ]);
  });

  it('a configuration given with sources without a secret: each listed in one ConfigError (it was an Error naming the first)', () => {
    const config = loadConfig(
      {
        NODE_ENV: 'production',
        HOOKWARDEN_CONFIG_JSON: JSON.stringify({
          sources: [
            { name: 'a', scheme: 'github' },
            { name: 'b', scheme: 'stripe' },
          ],
        }),
      },
      emptyDir(),
    );
    const problems = refusal({ config, dynamoDb: local.client, rateLimiter: false, controls: false })?.problems;
    expect(problems).toHaveLength(2);
    expect(problems?.[0]).toMatch(/"a"|sources\[0\]/);
    expect(problems?.[1]).toMatch(/"b"|sources\[1\]/);
  });

  it('options: null is a ConfigError, not a TypeError', () => {
    expect(refusal(null)?.problems).toContain('options: must be an object of options, got null');
  });

  it("replayGuard: a misspelt mode is refused; it ran as 'store', keeping the record of a handler that threw", () => {
    const store = new DynamoDbDeliveryStore({ client: local.client, tableName: valid().config.tables.deliveries });
    expect(() => replayGuard({ store, mode: 'processs' as never })).toThrow(
      new ConfigError([`replayGuard.mode: must be 'process' or 'store', got "processs"`]),
    );
    expect(() => replayGuard({ store, leaseSeconds: -5 })).toThrow(ConfigError);
  });
});
