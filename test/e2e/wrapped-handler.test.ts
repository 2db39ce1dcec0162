import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withHookwarden, type HttpHandler } from '../../core/pipeline.js';
import { localContext } from '../../local/http-adapter.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { webhookPost } from '../helpers/proxy-event.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const GUARANTEED = ['source', 'headers', 'client', 'body', 'delivery', 'receivedAt'] as const;
const signed = standardWebhooksSender({ prefix: 'msg_wrap' });

describe('a team handler wrapped with withHookwarden', () => {
  let h: Harness;
  const processed: string[] = [];
  const failNext = new Set<string>();
  const slow = new Map<string, Promise<void>>();
  const answerNext = new Map<string, number>();
  let wrapped!: HttpHandler;
  /** Per delivery, the fields the handler's type promises that were not set. */
  const seen = new Map<string, string[]>();

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET },
      {
        webhookHandler: (deps) =>
          (wrapped = withHookwarden(async (_event, context) => {
            // Typed as set (VerifiedWebhookContext): no `?.`, no `!`. Checked at run time in the first test.
            const id = context.hookwarden.delivery.deliveryId;
            seen.set(
              id,
              GUARANTEED.filter((key) => context.hookwarden[key] === undefined),
            );
            await slow.get(id);
            if (failNext.delete(id)) throw new Error('downstream queue refused the message');
            const status = answerNext.get(id);
            answerNext.delete(id);
            if (status !== undefined) return { statusCode: status, body: JSON.stringify({ retry: 'later' }) };
            processed.push(id);
            return { statusCode: 202, body: JSON.stringify({ processed: id, bytes: context.hookwarden.body.length }) };
          }, deps)),
        containment: true,
      },
    );
  });
  afterAll(() => h.close());

  it('runs the handler once for an authentic delivery, never for its copies', async () => {
    const d = signed();
    const first = await h.post('/webhooks/default', d.body, d.headers);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ processed: d.id, bytes: Buffer.byteLength(d.body) });
    expect(seen.get(d.id)).toEqual([]);
    const copy = await h.post('/webhooks/default', d.body, d.headers);
    expect(copy.status).toBe(200);
    expect(await copy.json()).toEqual({ status: 'duplicate', id: d.id });
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('never runs the handler for a forged delivery', async () => {
    const d = signed();
    const res = await h.post('/webhooks/default', `${d.body}x`, d.headers);
    expect(res.status).toBe(401);
    expect(processed).not.toContain(d.id);
  });

  it('removes the record when the handler throws, so the provider retry is processed', async () => {
    const d = signed();
    failNext.add(d.id);
    const failed = await h.post('/webhooks/default', d.body, d.headers);
    expect(failed.status).toBe(500);
    expect(await h.store.get('default', d.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(202);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
    expect((await h.store.get('default', d.id, Math.floor(Date.now() / 1000)))?.status).toBe('stored');
  });

  it('runs the handler once for a body too large for one item (it was refused 413), and gives the retry of a failed run the whole body', async () => {
    // 600 KB of base64 of random bytes: gzip leaves more than the 380,000 bytes one DynamoDB item holds.
    const body = JSON.stringify({ type: 'file.uploaded', data: randomBytes(450_000).toString('base64') });
    const d = signed({ body });
    failNext.add(d.id);
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(500);
    expect(await h.store.get('default', d.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual({ processed: d.id, bytes: Buffer.byteLength(body) });
    const copy = await h.post('/webhooks/default', d.body, d.headers);
    expect(await copy.json()).toEqual({ status: 'duplicate', id: d.id });
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
    const stored = await h.store.get('default', d.id, Math.floor(Date.now() / 1000));
    expect(stored?.status).toBe('stored');
    expect(stored?.body.toString('utf8')).toBe(body);
  });

  it('answers a copy that arrives while the first is still processing with 409 and Retry-After', async () => {
    const d = signed();
    let release!: () => void;
    slow.set(d.id, new Promise<void>((resolve) => (release = resolve)));
    const first = h.post('/webhooks/default', d.body, d.headers);
    // Wait until the first invocation holds the record.
    for (let i = 0; i < 100 && !(await h.store.get('default', d.id, Math.floor(Date.now() / 1000))); i++)
      await new Promise((r) => setTimeout(r, 10));
    const copy = await h.post('/webhooks/default', d.body, d.headers);
    expect(copy.status).toBe(409);
    expect(Number(copy.headers.get('retry-after'))).toBeGreaterThan(0);
    release();
    expect((await first).status).toBe(202);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it.each([503, 500, 429, 400])('processes the retry of a delivery the handler answered %i (not 2xx) without throwing', async (status) => {
    const d = signed();
    answerNext.set(d.id, status);
    const refused = await h.post('/webhooks/default', d.body, d.headers);
    expect(refused.status).toBe(status);
    expect(await h.store.get('default', d.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(202);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('never runs the handler twice at once for a delivery whose first run outlives the Lambda deadline', async () => {
    const d = signed();
    let release!: () => void;
    slow.set(d.id, new Promise<void>((resolve) => (release = resolve)));
    // A function with 2.8 s left (the claim needs more than the 2 s margin of the request's deadline, core/deadline.ts,
    // or the request is answered 503 before it claims anything; 2.3 s left only 300 ms to claim in, which a loaded
    // machine missed): the handler is still running when that time is up.
    const first = wrapped(webhookPost(d.body, d.headers, 'req-late-1'), localContext('webhook', 2_800));
    await new Promise((r) => setTimeout(r, 2_900));
    slow.delete(d.id);
    const retry = await wrapped(webhookPost(d.body, d.headers, 'req-late-2'), localContext('webhook'));
    release();
    expect(retry.statusCode).toBe(409);
    expect((await first).statusCode).toBe(202);
    expect(processed.filter((id) => id === d.id)).toHaveLength(1);
  });
});
