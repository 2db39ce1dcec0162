import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hookwardenPlugin,
  httpMiddlewares,
  webhookMiddlewares,
  type HttpHandler,
  type HttpMiddleware,
  type PipelineDependencies,
  type WebhookHandler,
} from '../../core/index.js';
import type { LocalStore } from '../../local/dynamo.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { chainDependencies } from '../helpers/chain-dependencies.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_early' });

/** The deliveries the team's handler ran, by id (each test's ids are its own). */
const ran: string[] = [];
/** What the team's filter answers for a delivery id, before the handler; absent: it lets the delivery through. */
const early = new Map<string, unknown>();
const handler: WebhookHandler = async (_event, context) => {
  ran.push(context.hookwarden.delivery.deliveryId);
  return { statusCode: 202, body: '' };
};
/** The team's middleware, placed after the replay guard: it answers early for the ids `early` names. */
const filter: HttpMiddleware = { before: (request) => early.get(request.event.headers['webhook-id'] ?? '') as never };

/**
 * A team's chain composed by hand with a middleware of its own after the replay guard that answers early (a `before`
 * that returns an answer, as `@middy/http-*` helpers and many team filters do). Middy then runs no `after` or
 * `onError` hook: the guard's claim was neither completed nor given back, the local server renewed its lease for as
 * long as the process lived, and every copy was 409 `delivery_in_progress` (the delivery lost). The local server now
 * settles such a claim when the invocation ends, by the answer given. Real HTTP, dynalite.
 */
describe('a middleware after the replay guard that answers early, on the local server', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET },
      {
        webhookHandler: (deps) =>
          middy(handler as never, { timeoutEarlyInMillis: 0 })
            .use(httpMiddlewares(deps))
            .use([...webhookMiddlewares(deps), filter]) as unknown as HttpHandler,
      },
    );
  });
  afterAll(() => h.close());

  const nowSeconds = (): number => Math.floor(Date.now() / 1000);

  it("a refusal (403): the claim is given back and the provider's retry is processed (it was 409 for good)", async () => {
    const d = signed();
    early.set(d.id, { statusCode: 403, body: '{"code":"refused_by_team"}' });
    let refused!: Response;
    const lines = await jsonLinesDuring(async () => (refused = await h.post('/webhooks/default', d.body, d.headers)));
    expect(refused.status).toBe(403);
    // Middy ran no after hook for it: the security headers come at the invocation's end (they were missing).
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(await h.store.get('default', d.id, nowSeconds())).toBeUndefined();
    const warning = lines.find((line) => String(line.message).startsWith('replayGuard: the invocation ended without'));
    expect(warning).toMatchObject({ level: 'WARN', source: 'default', deliveryId: d.id, statusCode: 403 });
    // Nothing of the delivery but its id in the line: no body, signature or secret.
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(d.body);
    expect(logged).not.toContain(d.headers['webhook-signature']);
    expect(logged).not.toContain(SECRET);
    expect(ran).not.toContain(d.id);

    early.delete(d.id);
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(202);
    expect(ran.filter((id) => id === d.id)).toHaveLength(1);
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
  });

  it('an early 2xx (a filter acknowledging a ping): the claim is completed, a copy is 200 duplicate and the handler never runs', async () => {
    const d = signed();
    early.set(d.id, { statusCode: 200, body: '{"status":"ignored"}' });
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(200);
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
    early.delete(d.id);
    const copy = await h.post('/webhooks/default', d.body, d.headers);
    expect(copy.status).toBe(200);
    expect(await copy.json()).toMatchObject({ status: 'duplicate' });
    expect(ran).not.toContain(d.id);
  });

  it('an early answer API Gateway cannot send (a bare string): the claim is given back, as a handler answering it has', async () => {
    const d = signed();
    early.set(d.id, 'ok');
    await h.post('/webhooks/default', d.body, d.headers);
    expect(await h.store.get('default', d.id, nowSeconds())).toBeUndefined();
    early.delete(d.id);
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect(ran.filter((id) => id === d.id)).toHaveLength(1);
  });

  // Its warning read the answer's statusCode before anything else was guarded: the getter's throw ended the settlement
  // there, the claim was never settled, and the local server renewed its lease for as long as it lived (409 for good).
  it('an early answer whose statusCode getter throws: the claim is given back, as a handler answering it has', async () => {
    const d = signed();
    early.set(d.id, {
      get statusCode(): number {
        throw new Error('no status');
      },
      body: '',
    });
    await h.post('/webhooks/default', d.body, d.headers);
    expect(await h.store.get('default', d.id, nowSeconds())).toBeUndefined();
    early.delete(d.id);
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect(ran.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('ten copies at once, each refused early: none left held, the next copy is processed once', async () => {
    const d = signed();
    early.set(d.id, { statusCode: 429, body: '' });
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => h.post('/webhooks/default', d.body, d.headers).then((r) => r.status)),
    );
    // One copy claimed and was refused by the filter; the others found its claim (409) or came after it was given back.
    expect(statuses.every((s) => s === 429 || s === 409)).toBe(true);
    expect(statuses).toContain(429);
    early.delete(d.id);
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(200);
    expect(ran.filter((id) => id === d.id)).toHaveLength(1);
  });
});

/**
 * The same chain on Lambda, which marks no context and calls nothing at an invocation's end: composed with
 * `middy(handler, hookwardenPlugin())` (as the README shows), the claim is settled at Middy's end of the request. With
 * Middy's options alone (`{ timeoutEarlyInMillis: 0 }`), copies are held off (409) until the lease passes.
 */
describe('a middleware after the replay guard that answers early, on Lambda (a context nothing marks)', () => {
  let local: LocalStore;
  let deps: PipelineDependencies;
  const chain = (plugin: object): HttpHandler =>
    middy(handler as never, plugin)
      .use(httpMiddlewares(deps))
      .use([...webhookMiddlewares(deps), filter]) as unknown as HttpHandler;
  const lambdaContext = (): Context =>
    ({ functionName: 'webhook', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 9_000 }) as unknown as Context;

  beforeAll(async () => {
    ({ deps, local } = await chainDependencies(SECRET));
  });
  afterAll(() => local?.close());

  const nowSeconds = (): number => Math.floor(Date.now() / 1000);

  it('with hookwardenPlugin(): a refusal gives the claim back and the retry is processed; an early 2xx completes it', async () => {
    const handle = chain(hookwardenPlugin());
    const refused = signed();
    early.set(refused.id, { statusCode: 403, body: '' });
    const answer = await handle(webhookPost(refused.body, refused.headers), lambdaContext());
    expect(answer.statusCode).toBe(403);
    expect(answer.headers).toMatchObject({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' });
    expect(await deps.store.get('default', refused.id, nowSeconds())).toBeUndefined();
    early.delete(refused.id);
    expect((await handle(webhookPost(refused.body, refused.headers), lambdaContext())).statusCode).toBe(202);
    expect(ran.filter((id) => id === refused.id)).toHaveLength(1);

    const ping = signed();
    early.set(ping.id, { statusCode: 200, body: '' });
    expect((await handle(webhookPost(ping.body, ping.headers), lambdaContext())).statusCode).toBe(200);
    expect((await deps.store.get('default', ping.id, nowSeconds()))?.status).toBe('stored');
    early.delete(ping.id);
    expect((await handle(webhookPost(ping.body, ping.headers), lambdaContext())).statusCode).toBe(200);
    expect(ran).not.toContain(ping.id);
  });

  it("with Middy's options alone: the claim stays held, and a copy is 409 until the lease (the invocation's time) passes", async () => {
    const handle = chain({ timeoutEarlyInMillis: 0 });
    const d = signed();
    early.set(d.id, { statusCode: 403, body: '' });
    expect((await handle(webhookPost(d.body, d.headers), lambdaContext())).statusCode).toBe(403);
    expect((await deps.store.get('default', d.id, nowSeconds()))?.status).toBe('processing');
    early.delete(d.id);
    expect((await handle(webhookPost(d.body, d.headers), lambdaContext())).statusCode).toBe(409);
    expect(ran).not.toContain(d.id);
  });

  // A team handler that is a Middy chain of its own, given hookwardenPlugin() too (for its early timeout): its
  // requestEnd ran the outer guard's end-of-invocation work before the outer chain's after hook, with no answer yet,
  // and gave back the claim of a delivery its handler had taken (202): every copy ran the handler again.
  it('a handler that is itself a Middy chain with hookwardenPlugin(): its end settles nothing of the outer chain', async () => {
    const inner = middy(handler as never, hookwardenPlugin());
    const handle = middy(inner as never, hookwardenPlugin())
      .use(httpMiddlewares(deps))
      .use(webhookMiddlewares(deps)) as unknown as HttpHandler;
    const d = signed();
    const logged = await jsonLinesDuring(async () => {
      expect((await handle(webhookPost(d.body, d.headers), lambdaContext())).statusCode).toBe(202);
    });
    expect((await deps.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
    expect((await handle(webhookPost(d.body, d.headers), lambdaContext())).statusCode).toBe(200);
    expect(ran.filter((id) => id === d.id)).toHaveLength(1);
    expect(logged.map((line) => line.message)).not.toContain(
      "replayGuard: the invocation ended without this guard's after or onError hook (a middleware after it answered early, or an onError hook before it threw); its claim is settled by the answer given. Refuse by throwing an HttpError instead",
    );
  });
});
