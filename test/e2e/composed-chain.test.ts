import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  environmentSecretProviders,
  httpMiddlewares,
  loadConfig,
  rawBody,
  replayGuard,
  signatureVerifier,
  webhookMiddlewares,
  webhookRoute,
  type HttpHandler,
  type HttpMiddleware,
  type PipelineDependencies,
  type WebhookHandler,
  withHookwarden,
} from '../../core/index.js';
import { localContext } from '../../local/http-adapter.js';
import type { LocalStore } from '../../local/dynamo.js';
import { emptyDir } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { chainDependencies } from '../helpers/chain-dependencies.js';
import { standardWebhooksSender, type SignedDelivery } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_chain', secret: SECRET });

/** The REST proxy event API Gateway hands over for `d`, with `body` in place of the signed one when given. */
const event = (d: SignedDelivery, body = d.body): APIGatewayProxyEvent => webhookPost(body, d.headers, `api-${d.id}`);

/**
 * A team composes Hookwarden's middlewares into a Middy chain of its own (README, "Wrap your own handler"). A chain
 * that leaves out a check another one needs fails every request (500, the log naming what is missing); it never
 * lets one through unchecked.
 */
describe('a chain of Hookwarden middlewares composed by hand', () => {
  let store: LocalStore;
  let deps: PipelineDependencies;
  const ran: string[] = [];
  const handler: WebhookHandler = async (e) => {
    ran.push(String(e.body));
    return { statusCode: 202, body: '' };
  };
  const chain = (...middlewares: HttpMiddleware[]): HttpHandler =>
    middy(handler as never, { timeoutEarlyInMillis: 0 })
      .use(httpMiddlewares(deps))
      .use(middlewares) as unknown as HttpHandler;
  const call = async (h: HttpHandler, e: APIGatewayProxyEvent): Promise<{ answer: APIGatewayProxyResult; logged: string }> => {
    let answer!: APIGatewayProxyResult;
    const lines = await jsonLinesDuring(async () => (answer = await h(e, localContext('webhook'))));
    return { answer, logged: JSON.stringify(lines.filter((line) => line.message === 'webhook failed')) };
  };

  beforeAll(async () => {
    ({ deps, local: store } = await chainDependencies(SECRET));
  });
  afterAll(() => store?.close());

  const sources = () => deps.config.sources;
  const verifier = () => signatureVerifier({ sources: sources(), secretProviders: environmentSecretProviders });
  const guard = () => replayGuard({ store: deps.store, rateLimiter: false });
  /** `withHookwarden`'s options on the chain's store, no limits. */
  const wrapOptions = () =>
    ({
      config: deps.config,
      store: deps.store,
      secretProviders: environmentSecretProviders,
      rateLimiter: false,
      controls: false,
    }) as const;

  it('without rawBody: refused with 500, never checked over an empty body (a MAC over "" let any body through)', async () => {
    // A delivery the provider really sent with an empty body: its signature covers the id, the time and "".
    const empty = signed({ body: '' });
    const { answer, logged } = await call(
      chain(webhookRoute({ sources: sources() }), verifier(), guard()),
      event(empty, '{"forged":true}'),
    );
    expect(answer.statusCode).toBe(500);
    expect(logged).toContain('signatureVerifier needs rawBody before it');
    expect(ran).not.toContain('{"forged":true}');
  });

  it('without webhookRoute: refused with 500, the log naming it', async () => {
    const { answer, logged } = await call(chain(rawBody(), verifier(), guard()), event(signed()));
    expect(answer.statusCode).toBe(500);
    expect(logged).toContain('signatureVerifier needs webhookRoute before it');
  });

  it("rawBody before webhookRoute: the source's size limit still applies (413; it was rawBody's 1 MiB, the body stored)", async () => {
    const config = loadConfig({ WEBHOOK_SECRET: SECRET, NODE_ENV: 'production', WEBHOOK_MAX_BODY_BYTES: '1024' }, emptyDir());
    const readFirst = chain(
      rawBody(),
      webhookRoute({ sources: config.sources }),
      signatureVerifier({ sources: config.sources, secretProviders: environmentSecretProviders }),
      guard(),
    );
    const large = signed({ body: JSON.stringify({ pad: 'x'.repeat(100_000) }) });
    const { answer } = await call(readFirst, event(large));
    expect(answer.statusCode).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large', message: 'The body exceeds 1024 bytes.' } });
    expect(ran).not.toContain(large.body);
    expect(await deps.store.get('default', large.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    // Within the limit, the same chain processes it.
    const small = signed();
    expect((await call(readFirst, event(small))).answer.statusCode).toBe(202);
  });

  /** A team's own body parser, as `@middy/http-json-body-parser` does it: `event.body` becomes the parsed JSON. */
  const jsonBodyParser = (): HttpMiddleware => ({
    before: async (request) => {
      request.event.body = JSON.parse(String(request.event.body)) as never;
    },
  });

  it('a JSON body parser before them: refused with 500, the log naming the cause (it was a TypeError from Buffer)', async () => {
    const d = signed();
    const parsedFirst = middy(handler as never, { timeoutEarlyInMillis: 0 })
      .use(jsonBodyParser())
      .use(httpMiddlewares(deps))
      .use([webhookRoute({ sources: sources() }), rawBody(), verifier(), guard()]) as unknown as HttpHandler;
    const { answer, logged } = await call(parsedFirst, event(d));
    expect(answer.statusCode).toBe(500);
    expect(logged).toContain('rawBody: event.body is an object, not the text API Gateway sends');
    expect(ran).not.toContain('[object Object]');
  });

  it('a JSON body parser after them: the handler gets the parsed body, the verified bytes in context.hookwarden.body', async () => {
    const d = signed();
    let seen: unknown;
    const parsedAfter = middy(
      async (e: APIGatewayProxyEvent, context: Parameters<WebhookHandler>[1]) => {
        seen = { parsed: e.body, bytes: context.hookwarden.body?.toString('utf8') };
        return { statusCode: 202, body: '' };
      },
      { timeoutEarlyInMillis: 0 },
    )
      .use(httpMiddlewares(deps))
      .use([webhookRoute({ sources: sources() }), rawBody(), verifier(), guard()])
      .use(jsonBodyParser()) as unknown as HttpHandler;
    const { answer } = await call(parsedAfter, event(d));
    expect(answer.statusCode).toBe(202);
    expect(seen).toEqual({ parsed: JSON.parse(d.body), bytes: d.body });
  });

  it('with every check it needs: the delivery is processed', async () => {
    const d = signed();
    const { answer } = await call(chain(webhookRoute({ sources: sources() }), rawBody(), verifier(), guard()), event(d));
    expect(answer.statusCode).toBe(202);
    expect(ran).toContain(d.body);
  });

  it('a handler wrapped twice: 500 naming the mistake, the record given back (it was 409 delivery_in_progress to every delivery)', async () => {
    const options = wrapOptions();
    const twice = withHookwarden(withHookwarden(handler, options), options);
    const d = signed();
    const { answer, logged } = await call(twice, event(d));
    expect(answer.statusCode).toBe(500);
    expect(logged).toContain('Hookwarden runs twice on it');
    expect(ran).not.toContain(d.body);
    expect(await deps.store.get('default', d.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    // Wrapped once, the provider's retry is processed.
    expect((await call(withHookwarden(handler, options), event(d))).answer.statusCode).toBe(202);
    expect(ran.filter((body) => body === d.body)).toHaveLength(1);
  });

  // The inner guard gave back the claim the outer one made; the outer's mark of a handler running in this process (the
  // local server's context, where a lease is kept alive) stayed, and every copy was 409 for as long as the process lived.
  it.each([
    ['withHookwarden twice', () => withHookwarden(withHookwarden(handler, wrapOptions()), wrapOptions())],
    ['webhookMiddlewares twice in one chain', () => chain(...webhookMiddlewares(deps), ...webhookMiddlewares(deps))],
  ])('%s, on the local server: each copy is the same 500 naming the mistake, never 409', async (_name, make) => {
    const twice = make();
    const d = signed();
    for (let copy = 0; copy < 3; copy++) {
      const { answer, logged } = await call(twice, event(d));
      expect(answer.statusCode).toBe(500);
      expect(logged).toContain('Hookwarden runs twice on it');
    }
    expect(ran).not.toContain(d.body);
    expect(await deps.store.get('default', d.id, Math.floor(Date.now() / 1000))).toBeUndefined();
  });
});
