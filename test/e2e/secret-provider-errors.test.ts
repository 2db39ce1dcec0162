import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTelemetry,
  loadConfig,
  withHookwarden,
  type HookwardenConfig,
  type SecretProvider,
  type SecretProviderFactory,
} from '../../core/index.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { localContext } from '../../local/http-adapter.js';
import { emptyDir } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden/default-AbCdEf';
const signed = standardWebhooksSender({ prefix: 'msg_provider', secret: SECRET });

/** A team's own secret provider: each `current()` answers the next step (a set of secrets, or what it throws). */
const scripted =
  (steps: Array<readonly string[] | { readonly throws: unknown }>): SecretProviderFactory =>
  (): SecretProvider => {
    let call = 0;
    return {
      current: async () => {
        const step = steps[Math.min(call++, steps.length - 1)] as (typeof steps)[number];
        if ('throws' in step) throw step.throws;
        return step;
      },
      keyLabel: (index) => `team secret #${index + 1}`,
    };
  };

/** What a provider that fails may throw, quoting the key it read: a message, a string, an attribute (a response). */
const throwers: Array<[string, unknown]> = [
  ['an Error quoting it', new Error(`secret document malformed: {"keys":[{"secret":"${SECRET}"}]`)],
  ['an Error quoting it without its whsec_ prefix', new Error(`key ${SECRET.slice('whsec_'.length)} is not valid base64`)],
  ['a thrown string', `vault answered ${SECRET}`],
  ['an attribute holding it', Object.assign(new Error('vault answered 500'), { response: { data: { value: SECRET } } })],
];

/**
 * A team's secret provider fails, and what it throws quotes the key (its own message, a vault client's error carrying
 * the response): the request fails closed (500), and neither the log line nor a development answer shows the key. The
 * keys were left out only once loaded: a provider that failed before the first load, or after one, was logged whole.
 */
describe("a team's secret provider that fails quoting the key, or answers what is no set of secrets", () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  const wrap = (config: HookwardenConfig, secretProviders: SecretProviderFactory) =>
    withHookwarden(async () => ({ statusCode: 202, body: '' }), {
      config,
      dynamoDb: store.client,
      secretProviders,
      telemetry: createTelemetry(),
      rateLimiter: false,
      controls: false,
    });

  const deliver = async (handler: ReturnType<typeof wrap>) => {
    const d = signed();
    let answer!: Awaited<ReturnType<typeof handler>>;
    const lines = await jsonLinesDuring(async () => (answer = await handler(webhookPost(d.body, d.headers), localContext('webhook'))));
    return { answer, text: JSON.stringify(lines) + answer.body };
  };

  const expectNoKey = (text: string): void => {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.slice('whsec_'.length));
  };

  it.each(throwers)('the configured secret (WEBHOOK_SECRET), %s: production log and development answer', async (_name, thrown) => {
    for (const NODE_ENV of ['production', 'development']) {
      const config = loadConfig({ NODE_ENV, WEBHOOK_SECRET: SECRET }, emptyDir());
      const { answer, text } = await deliver(wrap(config, scripted([{ throws: thrown }])));
      expect(answer.statusCode).toBe(500);
      expect(text).toContain('webhook failed');
      expectNoKey(text);
    }
  });

  // A TypeError from deep in the verifier ("secrets.flatMap is not a function"), or for nothing a 503 blaming the keys.
  it.each<[string, unknown, string]>([
    ['the secret itself, not in an array', SECRET, 'a string'],
    ['nothing (a forgotten return)', undefined, 'undefined'],
    ['a key document', { keys: [{ secret: SECRET }] }, 'an object'],
  ])('a provider that answers %s: 500, the log line saying what it answered, never the value', async (_name, answered, kind) => {
    const config = loadConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: SECRET }, emptyDir());
    const handler = wrap(config, () => ({ current: async () => answered as never, keyLabel: (index) => `team secret #${index + 1}` }));
    const { answer, text } = await deliver(handler);
    expect(answer.statusCode).toBe(500);
    expect(text).toContain(`the secret provider of source \\"default\\" answered ${kind}, not an array of secrets`);
    expectNoKey(text);
  });

  it.each(throwers)('a Secrets Manager source whose key the provider gave before, %s', async (_name, thrown) => {
    const config = loadConfig(
      {
        NODE_ENV: 'development',
        HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'default', scheme: 'standard-webhooks', secretArn: SECRET_ID }] }),
      },
      emptyDir(),
    );
    const handler = wrap(config, scripted([[SECRET], { throws: thrown }]));
    expect((await deliver(handler)).answer.statusCode).toBe(202);
    const { answer, text } = await deliver(handler);
    expect(answer.statusCode).toBe(500);
    expectNoKey(text);
  });
});
