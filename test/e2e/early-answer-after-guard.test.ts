import middy from '@middy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpMiddlewares, webhookMiddlewares, type HttpHandler, type HttpMiddleware, type WebhookHandler } from '../../core/index.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const signed = standardWebhooksSender({ prefix: 'msg_early' });

/**
 * A team's chain composed by hand with a middleware of its own after the replay guard that answers early (a `before`
 * that returns an answer, as `@middy/http-*` helpers and many team filters do). Middy then runs no `after` or
 * `onError` hook: the guard's claim was neither completed nor given back, the local server renewed its lease for as
 * long as the process lived, and every copy was 409 `delivery_in_progress` (the delivery lost). The local server now
 * settles such a claim when the invocation ends, by the answer given. Real HTTP, dynalite.
 */
describe('a middleware after the replay guard that answers early, on the local server', () => {
  let h: Harness;
  const ran: string[] = [];
  /** What the team's filter answers for a delivery id, before the handler; absent: it lets the delivery through. */
  const early = new Map<string, unknown>();
  const handler: WebhookHandler = async (_event, context) => {
    ran.push(context.hookwarden.delivery.deliveryId);
    return { statusCode: 202, body: '' };
  };
  const filter: HttpMiddleware = {
    before: (request) => {
      const id = request.event.headers['webhook-id'] ?? '';
      return early.get(id) as never;
    },
  };

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
