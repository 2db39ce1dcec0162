import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTelemetry,
  DuplicateDeliveryError,
  DynamoDbDeliveryStore,
  environmentSecretProviders,
  HttpError,
  loadConfig,
  withHookwarden,
  type WebhookHandler,
} from '../../core/index.js';
import { DELIVERIES_TABLE } from '../../core/stores/tables.js';
import { localContext } from '../../local/http-adapter.js';
import { startLocalStore, type LocalStore } from '../../local/dynamo.js';
import { emptyDir } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const GITHUB_SECRET = TEST_SECRETS.github;
const signed = standardWebhooksSender({ prefix: 'msg_throws', secret: SECRET });
const BODY = JSON.stringify({ type: 'customer.created', data: { email: 'jane@example.com', card: '4242424242424242' } });

/** A signed REST proxy event of `POST /webhooks/default`, its body base64-encoded as the deployed API passes it. */
const event = (headers: Record<string, string>, body: string, base64 = true): APIGatewayProxyEvent => ({
  ...webhookPost(base64 ? Buffer.from(body).toString('base64') : body, headers, `api-${headers['webhook-id'] ?? 'github'}`),
  isBase64Encoded: base64,
});

/** `handler` wrapped as a team would, on `store`, with `env`'s configuration (production unless `env` says), no limits. */
const wrapOn = (store: LocalStore, handler: WebhookHandler, env: Record<string, string>) =>
  withHookwarden(handler, {
    config: loadConfig({ NODE_ENV: 'production', ...env }, emptyDir()),
    dynamoDb: store.client,
    secretProviders: environmentSecretProviders,
    telemetry: createTelemetry(),
    rateLimiter: false,
    controls: false,
  });

/** What a team's handler may put in what it throws: what it was given, and the secret it can read itself. */
interface Seen {
  readonly event: APIGatewayProxyEvent;
  readonly body: string;
  readonly signature: string;
  readonly secret: string;
}

/**
 * A team's handler throws, and what it throws quotes the secret, the body or the signature (a message built from the
 * payload, an HTTP client's error carrying the request it sent, a thrown string). Production answers a generic 500;
 * the log line keeps the error (name, the rest of its message, its stack) but none of those values.
 */
describe('a wrapped handler that throws what it was given', () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  const wrap = (handler: WebhookHandler, env: Record<string, string>) => wrapOn(store, handler, env);

  const throwers: Array<[string, (seen: Seen) => unknown]> = [
    ['the secret in its message', (s) => new Error(`could not verify with ${s.secret} downstream`)],
    ['the secret without its whsec_ prefix', (s) => new Error(`key ${s.secret.replace(/^whsec_/, '')} refused`)],
    ['the body in its message', (s) => new Error(`queue refused ${s.body}`)],
    ['the base64 body of the event', (s) => new Error(`queue refused ${String(s.event.body)}`)],
    ['the body JSON-escaped', (s) => new Error(`queue refused ${JSON.stringify({ payload: s.body })}`)],
    ['the signature header', (s) => new Error(`forwarding with signature ${s.signature} failed`)],
    ['a MAC alone', (s) => new Error(`mac ${s.signature.slice('v1,'.length)} mismatch`)],
    ['the secret in its cause', (s) => new Error('downstream failed', { cause: new Error(`token ${s.secret}`) })],
    ['the body in an attribute', (s) => Object.assign(new Error('HTTP 500 from downstream'), { request: { data: s.body } })],
    ['the body as bytes in an attribute', (s) => Object.assign(new Error('HTTP 500 from downstream'), { payload: Buffer.from(s.body) })],
    ['a thrown string', (s) => `failed: ${s.body} ${s.secret}`],
    ['a thrown plain object', (s) => ({ message: `failed: ${s.signature}`, body: s.body })],
  ];

  it.each(throwers)('Standard Webhooks: %s', async (_name, thrown) => {
    const d = signed({ body: BODY });
    const seen: Seen = { event: event(d.headers, d.body), body: d.body, signature: d.headers['webhook-signature'], secret: SECRET };
    const handler = wrap(
      async () => {
        throw thrown(seen);
      },
      { WEBHOOK_SECRET: SECRET },
    );
    let answer!: Awaited<ReturnType<typeof handler>>;
    const lines = await jsonLinesDuring(async () => (answer = await handler(seen.event, localContext('webhook'))));
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'internal_error', message: 'Internal server error.' } });
    const failed = lines.find((line) => line.message === 'webhook failed');
    expect(failed).toBeDefined();
    // Bytes are logged as their length; text as it was, less the values left out.
    expect(JSON.stringify(failed)).toMatch(/\[redacted\]|\[\d+ bytes\]/);
    const text = JSON.stringify(lines);
    for (const value of [
      SECRET,
      SECRET.replace(/^whsec_/, ''),
      seen.signature,
      seen.signature.slice(3),
      String(seen.event.body),
      '4242424242424242',
    ])
      expect(text).not.toContain(value);
  });

  it('keeps the rest of the error: its name, the words around a value left out, its stack', async () => {
    const d = signed({ body: BODY });
    const handler = wrap(
      async () => {
        throw new TypeError(`queue refused ${d.body} (quota)`);
      },
      { WEBHOOK_SECRET: SECRET },
    );
    const lines = await jsonLinesDuring(() => handler(event(d.headers, d.body, false), localContext('webhook')));
    const error = lines.find((line) => line.message === 'webhook failed')?.error as Record<string, string>;
    expect(error).toMatchObject({ name: 'TypeError', message: 'queue refused [redacted] (quota)' });
    expect(error.stack).toContain('TypeError: queue refused [redacted] (quota)\n');
    expect(error.stack).toContain('wrapped-handler-errors.test.ts');
  });

  it('an error with an attribute whose getter throws is still logged (it was the log line that threw, a bare 502)', async () => {
    const d = signed({ body: BODY });
    const handler = wrap(
      async () => {
        const error = new Error(`refused ${SECRET}`);
        Object.defineProperty(error, 'response', {
          enumerable: true,
          get: () => {
            throw new Error('socket hang up');
          },
        });
        throw error;
      },
      { WEBHOOK_SECRET: SECRET },
    );
    let answer!: Awaited<ReturnType<typeof handler>>;
    const lines = await jsonLinesDuring(async () => (answer = await handler(event(d.headers, d.body), localContext('webhook'))));
    expect(answer.statusCode).toBe(500);
    expect(lines.find((line) => line.message === 'webhook failed')?.error).toMatchObject({
      message: 'refused [redacted]',
      response: '[unreadable]',
    });
  });

  it('GitHub: the secret as configured and the hex MAC of X-Hub-Signature-256', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const mac = createHmac('sha256', GITHUB_SECRET).update(body).digest('hex');
    const headers = { 'X-Hub-Signature-256': `sha256=${mac}`, 'X-GitHub-Event': 'ping', 'X-GitHub-Delivery': 'd-throws-1' };
    const handler = wrap(
      async () => {
        throw new Error(`secret "${GITHUB_SECRET}" gave ${mac} for ${body}`);
      },
      { WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: GITHUB_SECRET },
    );
    const lines = await jsonLinesDuring(() => handler(event(headers, body), localContext('webhook')));
    expect(lines.find((line) => line.message === 'webhook failed')).toBeDefined();
    const text = JSON.stringify(lines);
    for (const value of [GITHUB_SECRET, mac, 'logically awesome']) expect(text).not.toContain(value);
  });
});

/**
 * A team's handler that answers something API Gateway cannot send (it forgot the `return`, returned its body, or an
 * object of its own): a 500 of Hookwarden's (security headers, request id), a log line saying what came back, and the
 * record given back so that the provider's retry reaches the handler again. It was a bare 502 from API Gateway
 * (undefined, an object without statusCode), or a TypeError whose message quoted the string.
 */
describe('a wrapped handler that answers no proxy result', () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  it.each([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['its body as a string', 'BODY', 'a string'],
    ['an object of its own', { ok: true, accepted: 1 }, 'an object without statusCode'],
    ['an array', [202], 'an array'],
    // These compared as neither below 200 nor above 299: the record was marked stored, API Gateway answered 502.
    ['a statusCode of NaN', { statusCode: Number.NaN, body: '' }, 'an object whose statusCode is no HTTP status'],
    ['a statusCode in words', { statusCode: 'accepted', body: '' }, 'an object whose statusCode is no HTTP status'],
    ['a statusCode with a fraction', { statusCode: 202.5, body: '' }, 'an object whose statusCode is no HTTP status'],
    ['a statusCode out of range', { statusCode: 2000, body: '' }, 'an object whose statusCode is no HTTP status'],
  ])('%s: 500 with the request id, the log naming it, the record given back', async (_name, returned, kind) => {
    const handler = wrapOn(
      store,
      async (_event, context) => (returned === 'BODY' ? context.hookwarden.body?.toString() : returned) as never,
      { WEBHOOK_SECRET: SECRET },
    );
    const d = signed({ body: BODY });
    let answer!: Awaited<ReturnType<typeof handler>>;
    const lines = await jsonLinesDuring(async () => (answer = await handler(event(d.headers, d.body), localContext('webhook'))));
    expect(answer?.statusCode).toBe(500);
    expect(answer.headers).toMatchObject({ 'X-Content-Type-Options': 'nosniff', Vary: 'Origin' });
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'internal_error', requestId: `api-${d.id}` } });
    const failed = lines.find((line) => line.message === 'webhook failed');
    expect((failed?.error as { message?: string } | undefined)?.message).toBe(
      `the handler answered ${kind}, not an API Gateway proxy result ({ statusCode, body })`,
    );
    expect(JSON.stringify(lines)).not.toContain('4242424242424242');
    const record = await new DynamoDbDeliveryStore({ client: store.client, tableName: DELIVERIES_TABLE.localName }).get(
      'default',
      d.id,
      Math.floor(Date.now() / 1000),
    );
    expect(record).toBeUndefined();
  });

  it("a status as text ('202', as AWS's blueprints answer) is still a 2xx: stored, its copy a duplicate", async () => {
    const handler = wrapOn(store, async () => ({ statusCode: '202', body: '' }) as never, { WEBHOOK_SECRET: SECRET });
    const d = signed({ body: BODY });
    const answer = await handler(event(d.headers, d.body), localContext('webhook'));
    expect(answer.statusCode).toBe('202');
    const copy = await handler(event(d.headers, d.body), localContext('webhook'));
    expect(copy.statusCode).toBe(200);
    expect(JSON.parse(copy.body)).toMatchObject({ status: 'duplicate', id: d.id });
  });
});

/**
 * A team's handler refuses a delivery with Hookwarden's own `HttpError` (exported; a 4xx is exposed by default), and
 * its message or details quote what it was given. The answer keeps the team's status and code, and neither the log
 * line (`webhook rejected`) nor the answer shows the secret, the signature or the body: both were left out only of
 * what a handler threw as a failure (500), not of a refusal.
 */
describe('a wrapped handler that refuses with an HttpError quoting what it was given', () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  const refusals: Array<[string, (seen: Seen) => HttpError]> = [
    ['a 422 quoting the body', (s) => new HttpError(422, 'event_unsupported', `cannot handle ${s.body}`)],
    [
      'a 400 whose details hold the body and the signature',
      (s) => new HttpError(400, 'bad_event', 'bad event', { details: { payload: s.body, signature: s.signature } }),
    ],
    ['a 409 quoting the secret', (s) => new HttpError(409, 'conflict', `downstream refused key ${s.secret}`)],
    [
      'a 429 quoting the MAC',
      (s) => new HttpError(429, 'slow_down', `throttled ${s.signature.slice('v1,'.length)}`, { headers: { 'Retry-After': '5' } }),
    ],
  ];

  it.each(refusals)('%s: its status and code, the values left out of the log line and the answer', async (_name, refusal) => {
    for (const NODE_ENV of ['production', 'development']) {
      const d = signed({ body: BODY });
      const seen: Seen = { event: event(d.headers, d.body), body: d.body, signature: d.headers['webhook-signature'], secret: SECRET };
      const thrown = refusal(seen);
      const handler = wrapOn(
        store,
        async () => {
          throw thrown;
        },
        { NODE_ENV, WEBHOOK_SECRET: SECRET },
      );
      let answer!: Awaited<ReturnType<typeof handler>>;
      const lines = await jsonLinesDuring(async () => (answer = await handler(seen.event, localContext('webhook'))));
      expect(answer.statusCode).toBe(thrown.statusCode);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: thrown.code } });
      const rejected = lines.find((line) => line.message === 'webhook rejected');
      expect(rejected?.securityEvent).toMatchObject({ code: thrown.code, statusCode: thrown.statusCode, reason: expect.any(String) });
      expect(JSON.stringify(rejected)).toContain('[redacted]');
      const text = JSON.stringify(lines) + answer.body;
      for (const value of [SECRET, SECRET.replace(/^whsec_/, ''), seen.signature, seen.signature.slice(3), '4242424242424242'])
        expect(text).not.toContain(value);
    }
  });
});

/**
 * A team's handler throws Hookwarden's `HttpError` with a status that is no error's. Its record is given back (it
 * threw), so the answer must make the provider retry: a 500, as for any failure. It was answered as thrown: a 202 the
 * provider took as delivered while the record was gone (its copy ran the handler again), a 302, or `NaN` (a bare 502
 * from API Gateway).
 */
describe('a wrapped handler that throws an HttpError whose status is no error', () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  it.each([
    ['202', 202],
    ['302', 302],
    ['NaN', Number.NaN],
  ])('%s: 500 internal_error, logged as a failure, the record given back', async (_name, status) => {
    const handler = wrapOn(
      store,
      async () => {
        throw new HttpError(status, 'queued', 'Queued for later.');
      },
      { WEBHOOK_SECRET: SECRET },
    );
    const d = signed({ body: BODY });
    let answer!: Awaited<ReturnType<typeof handler>>;
    const lines = await jsonLinesDuring(async () => (answer = await handler(event(d.headers, d.body), localContext('webhook'))));
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'internal_error', message: 'Internal server error.' } });
    expect(lines.find((line) => line.message === 'webhook failed')).toMatchObject({ code: 'internal_error' });
    expect(lines.find((line) => line.message === 'webhook rejected')).toBeUndefined();
    const stored = new DynamoDbDeliveryStore({ client: store.client, tableName: DELIVERIES_TABLE.localName });
    expect(await stored.get('default', d.id, Math.floor(Date.now() / 1000))).toBeUndefined();
  });
});

/**
 * A team's handler that finds the delivery already done (in its own database) and throws Hookwarden's exported
 * `DuplicateDeliveryError`: answered 200 `duplicate`, which the provider never retries. Its record was given back as
 * for any throw, so every copy ran the handler again; it is now completed, as for any 2xx.
 */
describe('a wrapped handler that throws DuplicateDeliveryError itself', () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore();
  });
  afterAll(() => store?.close());

  it('200 duplicate, the record completed: a copy is answered duplicate by the guard and the handler runs once', async () => {
    let runs = 0;
    const handler = wrapOn(
      store,
      async (_event, context) => {
        runs += 1;
        throw new DuplicateDeliveryError(context.hookwarden.delivery.deliveryId);
      },
      { WEBHOOK_SECRET: SECRET },
    );
    const d = signed({ body: BODY });
    const answer = await handler(event(d.headers, d.body), localContext('webhook'));
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'duplicate', id: d.id });
    const stored = new DynamoDbDeliveryStore({ client: store.client, tableName: DELIVERIES_TABLE.localName });
    expect((await stored.get('default', d.id, Math.floor(Date.now() / 1000)))?.status).toBe('stored');
    const copy = await handler(event(d.headers, d.body), localContext('webhook'));
    expect(copy.statusCode).toBe(200);
    expect(JSON.parse(copy.body)).toMatchObject({ status: 'duplicate', id: d.id });
    expect(runs).toBe(1);
  });
});
