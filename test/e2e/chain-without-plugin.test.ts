import middy from '@middy/core';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  environmentSecretProviders,
  hookwardenPlugin,
  httpMiddlewares,
  webhookMiddlewares,
  withHookwarden,
  type HttpHandler,
  type PipelineDependencies,
  type WebhookHandler,
} from '../../core/index.js';
import type { LocalStore } from '../../local/dynamo.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { chainDependencies } from '../helpers/chain-dependencies.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_noplugin', secret: SECRET });
const NO_PLUGIN = 'replayGuard: this chain was built without hookwardenPlugin()';
const EARLY_TIMEOUT = 'replayGuard: Middy answered at its early timeout while the handler still ran';

/** A Lambda context (nothing marks it, nothing calls anything at its end) with `remainingMs` left. */
const lambdaContext = (remainingMs = 9_000): Context => {
  const end = Date.now() + remainingMs;
  return { functionName: 'webhook', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => end - Date.now() } as unknown as Context;
};

/**
 * A chain composed by hand without `hookwardenPlugin()` (README, "Wrap your own handler") went unnoticed: Middy's own
 * early timeout answered 500 while the handler still ran and the delivery was given back, so the provider's retry ran
 * the handler a second time, with nothing in the log naming why. The replay guard now says so once per container, and
 * names the plugin when Middy's early timeout comes.
 */
describe('a chain built without hookwardenPlugin()', () => {
  let local: LocalStore;
  let deps: PipelineDependencies;
  const messages = (lines: Array<Record<string, unknown>>, text: string) => lines.filter((line) => String(line.message).startsWith(text));

  beforeAll(async () => {
    ({ deps, local } = await chainDependencies(SECRET));
  });
  afterAll(() => local?.close());

  const handler: WebhookHandler = async () => ({ statusCode: 200, body: '' });
  const chain = (plugin: object, h: WebhookHandler = handler): HttpHandler =>
    middy(h as never, plugin)
      .use(httpMiddlewares(deps))
      .use(webhookMiddlewares(deps)) as unknown as HttpHandler;
  /** Two deliveries through `handle`, and what was logged meanwhile. */
  const twoDeliveries = async (handle: HttpHandler): Promise<Array<Record<string, unknown>>> =>
    jsonLinesDuring(async () => {
      for (const d of [signed(), signed()]) expect((await handle(webhookPost(d.body, d.headers), lambdaContext())).statusCode).toBe(200);
    });

  it('warns once per container, naming the plugin, the source, and never a body', async () => {
    const lines = await twoDeliveries(chain({ timeoutEarlyInMillis: 0 }));
    const warned = messages(lines, NO_PLUGIN);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 'WARN', source: 'default' });
    expect(String(warned[0]?.message)).toContain('middy(handler, hookwardenPlugin())');
    expect(JSON.stringify(warned)).not.toContain('"body"');
  });

  it('with hookwardenPlugin(), and in withHookwarden: no such warning', async () => {
    expect(messages(await twoDeliveries(chain(hookwardenPlugin())), NO_PLUGIN)).toHaveLength(0);
    const wrapped = withHookwarden(handler, {
      config: deps.config,
      store: deps.store,
      secretProviders: environmentSecretProviders,
      rateLimiter: false,
      controls: false,
    }) as unknown as HttpHandler;
    expect(messages(await twoDeliveries(wrapped), NO_PLUGIN)).toHaveLength(0);
  });

  it("Middy's early timeout, while the handler still runs: an error line names the plugin and the delivery", async () => {
    let release!: () => void;
    const slow: WebhookHandler = () =>
      new Promise((resolve) => {
        release = () => resolve({ statusCode: 200, body: '' });
      });
    // Middy's defaults: it answers 5 ms before the invocation's time runs out.
    const handle = chain({}, slow);
    const d = signed();
    let status = 0;
    const lines = await jsonLinesDuring(async () => {
      status = (await handle(webhookPost(d.body, d.headers), lambdaContext(400))).statusCode;
    });
    release();
    expect(status).toBe(500);
    const said = messages(lines, EARLY_TIMEOUT);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 'ERROR', source: 'default', deliveryId: d.id });
    expect(String(said[0]?.message)).toContain('hookwardenPlugin()');
  });
});

/**
 * The local server runs an invocation's end itself (it settles what a middleware's early answer left), but Middy's
 * early timeout is the chain's: a team trying its chain on `npm start` must hear of the missing plugin there too,
 * not first on Lambda.
 */
describe('a chain built without hookwardenPlugin(), on the local server', () => {
  let h: Harness;
  const handler: WebhookHandler = async () => ({ statusCode: 200, body: '' });

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET },
      {
        webhookHandler: (deps) =>
          middy(handler as never, { timeoutEarlyInMillis: 0 })
            .use(httpMiddlewares(deps))
            .use(webhookMiddlewares(deps)) as unknown as HttpHandler,
      },
    );
  });
  afterAll(() => h.close());

  it('warns once, as on Lambda', async () => {
    const lines = await jsonLinesDuring(async () => {
      for (const d of [signed(), signed()]) expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(200);
    });
    expect(lines.filter((line) => String(line.message).startsWith(NO_PLUGIN))).toHaveLength(1);
  });
});
