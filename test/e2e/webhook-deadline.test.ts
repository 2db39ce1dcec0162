import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { withHookwarden, type HttpHandler } from '../../core/pipeline.js';
import { localContext } from '../../local/http-adapter.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import type { StallingStore } from '../helpers/stalling-store.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

// POST /webhooks/{source} when DynamoDB hangs part-way through a request: the SDK's HTTP request stays open with
// no answer (a real HTTP hop in front of dynalite holds it). Before, nothing ended such a call in time: the
// function ran into its own timeout and API Gateway answered 502/504, with no security event or metric. Here the
// request's budget is 1 s and the client's attempts 20 s (the deadline, not the attempt, ends the hang); the
// fetches wait 20 s before calling it a hang.

const SECRET = TEST_SECRETS.standardWebhooks;
const HANG = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);
// The blocklist is read again before use once it is twice this old: a test that hangs that read waits past it.
const CONTROLS_REFRESH_MS = 250;
const staleControls = () => sleep(CONTROLS_REFRESH_MS * 2 + 100);

/** Checks the 503: `unavailable`, `Retry-After`, JSON, and nothing of the store in it. */
const expectUnavailable = async (res: Response): Promise<void> => {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  const text = await res.text();
  expect(JSON.parse(text).error.code).toBe('unavailable');
  expect(text).not.toMatch(/hookwarden-|Exception|Abort|deadline|\bat .+:\d+|dynamo/i);
};

const post = (h: Harness, d: { body: string; headers: Record<string, string> }) =>
  fetch(`${h.url}/webhooks/default`, {
    method: 'POST',
    body: d.body,
    headers: { 'content-type': 'application/json', ...d.headers },
    signal: AbortSignal.timeout(HANG),
  });

/**
 * A Lambda context with `functionMs` left: the local server's fields without its mark (symbol-keyed, not an entry), as
 * Lambda's own is (it ends the handler at its timeout, so the remaining time bounds what follows the handler).
 */
const lambdaContext = (functionMs: number): Context =>
  Object.fromEntries(Object.entries(localContext('hookwarden-webhook', functionMs))) as unknown as Context;

const waitFor = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !what(); i++) await sleep(50);
};

describe("Hookwarden's webhook function when DynamoDB hangs at one step (store mode, a 1 s budget)", () => {
  let h: Harness;
  let stalls: StallingStore;
  const signed = standardWebhooksSender({ prefix: 'msg_deadline' });

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '1000/60s', NODE_ENV: 'production' },
      {
        containment: true,
        controlsRefreshMs: CONTROLS_REFRESH_MS,
        stallable: true,
        requestBudgetMs: 1_000,
        client: { requestTimeoutMs: 20_000 },
      },
    );
    stalls = h.stalls as StallingStore;
  });
  afterAll(() => h.close());
  afterEach(() => stalls.release());

  // The blocklist and source switch read is shared by concurrent requests: no request's deadline aborts it (each
  // request stops waiting at its own), see shared-reads-deadline.test.ts.
  it.each([
    ['the rate-limit count', 'UpdateItem', () => h.config.tables.rateLimits],
    ['the claim (the delivery never reached the store)', 'PutItem', () => h.config.tables.deliveries],
  ])(
    'a hang in %s is 503 unavailable with Retry-After at the deadline, the call aborted; nothing stored, and the retry is accepted',
    async (_what, operation, table) => {
      const d = signed();
      const [heldBefore, abandonedBefore] = [stalls.held(), stalls.abandoned()];
      await staleControls();
      stalls.stall(operation, { when: (input) => input.TableName === table() });
      await expectUnavailable(await post(h, d));
      expect(stalls.held() - heldBefore).toBe(1);
      await waitFor(() => stalls.abandoned() - abandonedBefore >= 1);
      expect(stalls.abandoned() - abandonedBefore).toBe(1);
      stalls.release();
      expect(await h.store.get('default', d.id, nowSeconds())).toBeUndefined();
      // The sender's retry: stored once; a further copy is a duplicate.
      expect((await post(h, d)).status).toBe(202);
      const again = await post(h, d);
      expect(again.status).toBe(200);
      expect(((await again.json()) as { status: string }).status).toBe('duplicate');
    },
  );

  it('a claim that landed but whose answer never came is 503 at the deadline; the delivery is stored, and the retry is told duplicate', async () => {
    const d = signed();
    stalls.stall('PutItem', { delivered: true, when: (input) => input.TableName === h.config.tables.deliveries });
    await expectUnavailable(await post(h, d));
    stalls.release();
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
    const retry = await post(h, d);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { status: string }).status).toBe('duplicate');
  });
});

describe('a webhook request whose first attempt hangs is retried by the SDK and answered, nothing on the console', () => {
  let h: Harness;
  let stalls: StallingStore;
  const signed = standardWebhooksSender({ prefix: 'msg_retried' });

  beforeAll(async () => {
    // An attempt may take 300 ms; the request has 10 s.
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '1000/60s', NODE_ENV: 'production' },
      {
        containment: true,
        controlsRefreshMs: CONTROLS_REFRESH_MS,
        stallable: true,
        requestBudgetMs: 10_000,
        client: { requestTimeoutMs: 300 },
      },
    );
    stalls = h.stalls as StallingStore;
  });
  afterAll(() => h.close());
  afterEach(() => {
    stalls.release();
    vi.restoreAllMocks();
  });

  // Before, the SDK only warned after requestTimeout (through console) and kept waiting on the silent connection.
  it.each([
    ['the blocklist read', 'GetItem', false, () => h.config.tables.rateLimits],
    ['the rate-limit count (it landed)', 'UpdateItem', true, () => h.config.tables.rateLimits],
    ['the claim (it landed: the retry finds its own token)', 'PutItem', true, () => h.config.tables.deliveries],
  ])('%s: 202, stored once', async (_what, operation, delivered, table) => {
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const d = signed();
    await staleControls();
    stalls.stall(operation, { times: 1, delivered, when: (input) => input.TableName === table() });
    const res = await post(h, d);
    expect(res.status).toBe(202);
    expect(stalls.held()).toBeGreaterThanOrEqual(1);
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });
});

describe('withHookwarden (process mode) when DynamoDB hangs: the handler never runs behind a 503, nor twice', () => {
  let h: Harness;
  let stalls: StallingStore;
  const signed = standardWebhooksSender({ prefix: 'msg_process' });
  const processed: string[] = [];
  // The lease is the invocation's remaining time (10 s locally) plus a second: the clock is moved past it, not waited out.
  let offsetMs = 0;
  let wrapped: HttpHandler;

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, NODE_ENV: 'production' },
      {
        stallable: true,
        client: { requestTimeoutMs: 20_000 },
        now: () => Date.now() + offsetMs,
        webhookHandler: (deps) =>
          (wrapped = withHookwarden(
            async (_event, context): Promise<APIGatewayProxyResult> => {
              processed.push(context.hookwarden.delivery?.deliveryId ?? '');
              return { statusCode: 204, body: '' };
            },
            {
              config: deps.config,
              store: deps.store,
              telemetry: deps.telemetry,
              secretProviders: deps.secretProviders,
              rateLimiter: false,
              controls: false,
              requestBudgetMs: 1_000,
              ...(deps.now ? { now: deps.now } : {}),
            },
          )),
      },
    );
    stalls = h.stalls as StallingStore;
  });
  afterAll(() => h.close());
  afterEach(() => stalls.release());

  it('a claim whose answer is lost is 503 at the deadline; the record holds copies off (409) until its lease, then the delivery is processed once', async () => {
    const d = signed();
    stalls.stall('PutItem', { delivered: true, times: 1 });
    await expectUnavailable(await post(h, d));
    expect(processed).not.toContain(d.id);
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('processing');
    const early = await post(h, d);
    expect(early.status).toBe(409);
    expect((await readJson(early)).error.code).toBeDefined();
    offsetMs += 12_000;
    expect((await post(h, d)).status).toBe(204);
    expect((await post(h, d)).status).toBe(200);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('a claim that returns after the request was answered 503 (its answer late, past the deadline) never runs the handler: the claim is given back, the retry processed once', async () => {
    const d = signed();
    let slowed = 0;
    // The claim lands and its answer comes back 2.5 s later, after the late answer (1 s budget + 1 s): the abort
    // does not reach work past the HTTP exchange.
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'PutItemCommand' && slowed === 0) {
          slowed += 1;
          await sleep(2_500);
        }
        return result;
      },
      { step: 'deserialize', name: 'slowAnswer' },
    );
    try {
      await expectUnavailable(await post(h, d));
      await waitFor(() => slowed === 1);
      await sleep(3_000);
    } finally {
      h.client.middlewareStack.remove('slowAnswer');
    }
    // Before, the handler ran behind the 503 (in Lambda: frozen, resumed later, and run again by the retry).
    expect(processed).not.toContain(d.id);
    expect(await h.store.get('default', d.id, nowSeconds())).toBeUndefined();
    expect((await post(h, d)).status).toBe(204);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it("marking the delivery processed gets the function's remaining time less 1 s: with 3.5 s left and a hang on every 20 s attempt, the handler's 204 is answered before the function's end", async () => {
    const d = signed();
    stalls.stall('UpdateItem');
    const functionMs = 3_500;
    // What Lambda does at the function's timeout: the invocation ends, and API Gateway answers 502/504 on its own.
    const lambdaTimeout = sleep(functionMs).then(() => 'the function timed out' as const);
    const result = await Promise.race([wrapped(webhookPost(d.body, d.headers), lambdaContext(functionMs)), lambdaTimeout]);
    expect(result).not.toBe('the function timed out');
    if (typeof result === 'string') return;
    expect(result.statusCode).toBe(204);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('a claim that never reached the store is 503 at the deadline; the retry is processed once', async () => {
    const d = signed();
    stalls.stall('PutItem', { times: 1 });
    await expectUnavailable(await post(h, d));
    expect(await h.store.get('default', d.id, nowSeconds())).toBeUndefined();
    expect((await post(h, d)).status).toBe(204);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });
});

describe('the webhook request is answered even when the abort cannot reach the hung work (store mode, a 1 s budget)', () => {
  let h: Harness;
  const signed = standardWebhooksSender({ prefix: 'msg_late' });
  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example' },
      { requestBudgetMs: 1_000 },
    );
  });
  afterAll(() => h.close());

  it('a hang inside the SDK (not on the wire) is answered 503 unavailable 1 s after the deadline, through the same middlewares', async () => {
    let hung = 0;
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutItemCommand' || hung > 0) return next(args);
        hung += 1;
        return new Promise<never>(() => undefined);
      },
      { step: 'deserialize', name: 'hangForever' },
    );
    try {
      const d = signed();
      const res = await fetch(`${h.url}/webhooks/default`, {
        method: 'POST',
        body: d.body,
        headers: { 'content-type': 'application/json', origin: 'https://app.example', ...d.headers },
        signal: AbortSignal.timeout(HANG),
      });
      expect(hung).toBe(1);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await expectUnavailable(res);
      // The sender's retry is stored.
      expect((await post(h, d)).status).toBe(202);
    } finally {
      h.client.middlewareStack.remove('hangForever');
    }
  });
});

describe('withHookwarden (process mode) when marking the delivery processed hangs (attempts of 300 ms)', () => {
  let h: Harness;
  let stalls: StallingStore;
  const signed = standardWebhooksSender({ prefix: 'msg_complete' });
  const processed: string[] = [];

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, NODE_ENV: 'production' },
      {
        stallable: true,
        client: { requestTimeoutMs: 300 },
        webhookHandler: (deps) =>
          withHookwarden(
            async (_event, context): Promise<APIGatewayProxyResult> => {
              processed.push(context.hookwarden.delivery?.deliveryId ?? '');
              return { statusCode: 204, body: '' };
            },
            {
              config: deps.config,
              store: deps.store,
              telemetry: deps.telemetry,
              secretProviders: deps.secretProviders,
              rateLimiter: false,
              controls: false,
            },
          ),
      },
    );
    stalls = h.stalls as StallingStore;
  });
  afterAll(() => h.close());
  afterEach(() => stalls.release());

  // Before, the completion's UpdateItem never ended: the function ran into its timeout, API Gateway answered
  // 502/504, and the sender retried a delivery its handler had already processed.
  it('the handler has run: its 2xx is answered although every attempt hangs; the record stays processing until its lease', async () => {
    const d = signed();
    stalls.stall('UpdateItem');
    const res = await post(h, d);
    expect(res.status).toBe(204);
    expect(stalls.held()).toBe(2);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
    stalls.release();
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('processing');
    expect((await post(h, d)).status).toBe(409);
  });
});
