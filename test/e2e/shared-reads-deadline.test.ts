import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deadlineBound, STILL_RUNNING } from '../../core/deadline.js';
import { createWebhookHandler } from '../../core/pipeline.js';
import { secretsManagerProviders } from '../../core/secrets/secrets-manager.js';
import type { ControlsCache } from '../../core/stores/controls-cache.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { holdCall } from '../helpers/hold-call.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { secretsManagerStandIn, type SecretsManagerStandIn } from '../helpers/secrets-manager-stand-in.js';
import type { StallingStore } from '../helpers/stalling-store.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender, type SignedDelivery } from '../helpers/signed.js';

// The blocklist read is shared by every webhook request waiting for it (the local server serves many at once).
// Before, it ran under the deadline of whichever request started it: when that request's deadline passed, the read
// was aborted and every other waiter failed 503 with it although its own deadline had not passed; and a waiter whose
// own deadline passed kept waiting on a read no deadline of its own ended (a background refresh, started by a request
// already answered), until the late answer 1 s after it. Here the budget is 4 s, and the client's attempts 20 s (the
// deadline, not an attempt, ends the wait). A fake clock ages the cached blocklist; nothing depends on wall time
// except the 4 s each request has.

const HANG = 20_000;
const REFRESH_MS = 15_000;

/** The 503 a request gets when its own deadline passes on a store read: `unavailable`, nothing of the store in it. */
const expectUnavailable = async (res: Response): Promise<void> => {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  const text = await res.text();
  expect(JSON.parse(text).error.code).toBe('unavailable');
  expect(text).not.toMatch(/Exception|Abort|deadline|dynamo|hookwarden\//i);
};

/** Waits (20 s at most) until `what` holds. */
const waitFor = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 1_000 && !what(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
};

/** An error as the 'webhook failed' log line holds it (Powertools keeps the cause). */
type LoggedError = { name?: string; message?: string; cause?: LoggedError };

describe('the blocklist read shared by concurrent webhook requests (real HTTP, dynalite, a 4 s budget)', () => {
  let h: Harness;
  let stalls: StallingStore;
  let offset = 0;
  const now = () => Date.now() + offset;
  const signed = standardWebhooksSender({ prefix: 'msg_shared_read' });
  const post = (d: SignedDelivery) =>
    fetch(`${h.url}/webhooks/default`, {
      method: 'POST',
      body: d.body,
      headers: { 'content-type': 'application/json', ...d.headers },
      signal: AbortSignal.timeout(HANG),
    });
  const controlsReads = (from: number) =>
    h.calls.slice(from).filter((call) => call.command === 'GetItem' && call.table === h.config.tables.rateLimits).length;

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, WEBHOOK_RATE_LIMIT: '1000/60s', NODE_ENV: 'production' },
      { containment: true, stallable: true, now, requestBudgetMs: 4_000, client: { requestTimeoutMs: HANG } },
    );
    stalls = h.stalls as StallingStore;
    // The first load.
    expect((await post(signed())).status).toBe(202);
  });
  afterAll(() => h.close());

  it('a read started by a request whose deadline passed still answers the request that waits on it within its own: 202, one read', async () => {
    // Older than twice the refresh period: the next request waits for a read.
    offset += 2 * REFRESH_MS + 1_000;
    const first = signed();
    const second = signed();
    const joined = vi.spyOn(h.deps.controls as ControlsCache, 'current');
    // The read is held before it is sent until the second request waits on it too (by then the first's deadline passed).
    const held = holdCall(h.client, 'GetItemCommand');
    const from = h.calls.length;
    try {
      const answerOfFirst = post(first);
      await held.reached;
      await expectUnavailable(await answerOfFirst);
      const answerOfSecond = post(second);
      await waitFor(() => joined.mock.calls.length >= 2);
      held.release();
      // Before, the read went out with the first request's aborted signal: 503 for the second as well.
      expect((await answerOfSecond).status).toBe(202);
      expect(controlsReads(from)).toBe(1);
      expect(await h.store.get('default', second.id, Math.floor(Date.now() / 1000))).toBeDefined();
      expect(await h.store.get('default', first.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    } finally {
      held.release();
      joined.mockRestore();
    }
  });

  it('a request that waits on a hung background refresh is answered 503 at its own deadline (not by the late answer), the read left running', async () => {
    // A fresh blocklist (read now if it is too old), then past the refresh period: the next request is answered
    // from the cache and starts a background refresh, which hangs.
    expect((await post(signed())).status).toBe(202);
    offset += REFRESH_MS + 1_000;
    stalls.stall('GetItem', { when: (input) => input.TableName === h.config.tables.rateLimits });
    try {
      expect((await post(signed())).status).toBe(202);
      await waitFor(() => stalls.held() >= 1);
      // Past the bound: the next request must wait for that read.
      offset += REFRESH_MS;
      const waiter = signed();
      let res: Response | undefined;
      const lines = await jsonLinesDuring(async () => {
        res = await post(waiter);
      });
      await expectUnavailable(res as Response);
      const failed = lines.find((line) => line.message === 'webhook failed');
      const cause = (failed?.error as LoggedError | undefined)?.cause;
      // Before, the late answer (1 s after the deadline): its cause says the request was still running.
      expect(cause?.message).not.toBe(STILL_RUNNING);
      expect(cause?.name).toBe('DeadlineExceededError');
      // The read itself was not aborted: it still waits for its answer, for the requests after this one.
      expect(stalls.abandoned()).toBe(0);
      expect(await h.store.get('default', waiter.id, Math.floor(Date.now() / 1000))).toBeUndefined();
    } finally {
      stalls.release();
    }
  });
});

// The key document read (Secrets Manager) is shared the same way by the requests of one process. Secrets Manager has
// no local server: a stand-in over real HTTP, behind a hop that can hold a request unanswered. The webhook function's
// client was bound to the request's deadline (deadlineBound): this one is too, so the shared read has to step out of
// it. Before, the first request's deadline aborted the read, and the failure was kept for the 5 s backoff: every
// request meanwhile was 503 at once, whatever its own deadline. Budget 5 s, Secrets Manager attempts of 6 s.
describe('the key document read shared by concurrent webhook requests (a Secrets Manager stand-in over HTTP, a 5 s budget)', () => {
  let h: Harness;
  let sm: SecretsManagerStandIn;
  const signed = standardWebhooksSender({ prefix: 'msg_shared_secret' });
  const post = (source: string, d: SignedDelivery) =>
    fetch(`${h.url}/webhooks/${source}`, {
      method: 'POST',
      body: d.body,
      headers: { 'content-type': 'application/json', ...d.headers },
      signal: AbortSignal.timeout(HANG),
    });
  const isSecret = (id: string) => (input: Record<string, unknown>) => input.SecretId === id;

  beforeAll(async () => {
    sm = await secretsManagerStandIn(JSON.stringify({ keys: [{ secret: TEST_SECRETS.standardWebhooks }] }));
    const source = (name: string) => ({ name, scheme: 'standard-webhooks', secretArn: `hookwarden/${name}` });
    h = await startHarness(
      { HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [source('default'), source('hung'), source('other')] }), NODE_ENV: 'production' },
      {
        requestBudgetMs: 5_000,
        webhookHandler: (deps) =>
          createWebhookHandler({
            ...deps,
            secretProviders: secretsManagerProviders(deadlineBound(sm.client({ requestTimeoutMs: 6_000 }))),
          }),
      },
    );
  });
  afterAll(async () => {
    await h.close();
    await sm.close();
  });

  it("a read whose first attempt hangs past the first request's deadline answers the next request: 202, one read shared", async () => {
    sm.hop.stall('GetSecretValue', { times: 1, when: isSecret('hookwarden/default') });
    await expectUnavailable(await post('default', signed()));
    expect(sm.hop.held()).toBe(1);
    // Sent once the first is answered 503: it waits on the same read, whose second attempt is answered.
    const second = signed();
    expect((await post('default', second)).status).toBe(202);
    expect(sm.answered()).toBe(1);
    expect(await h.store.get('default', second.id, Math.floor(Date.now() / 1000))).toBeDefined();
  });

  it('a read that hangs on every attempt: each waiting request is answered 503 at its own deadline, the read not aborted; another source is unaffected', async () => {
    sm.hop.stall('GetSecretValue', { when: isSecret('hookwarden/hung') });
    const [heldBefore, abandonedBefore] = [sm.hop.held(), sm.hop.abandoned()];
    const answers: Response[] = [];
    const lines = await jsonLinesDuring(async () => {
      const first = post('hung', signed());
      await waitFor(() => sm.hop.held() > heldBefore);
      answers.push(...(await Promise.all([first, post('hung', signed()), post('other', signed())])));
    });
    const [first, second, otherSource] = answers as [Response, Response, Response];
    await expectUnavailable(first);
    await expectUnavailable(second);
    expect(otherSource.status).toBe(202);
    expect(sm.hop.held() - heldBefore).toBe(1);
    expect(sm.hop.abandoned() - abandonedBefore).toBe(0);
    const failed = lines.filter((line) => line.message === 'webhook failed' && line.source === 'hung');
    expect(failed).toHaveLength(2);
    // Before, the first request's deadline aborted the read: both were answered with its abort (the SDK's AbortError).
    for (const line of failed) expect((line.error as LoggedError).cause?.name).toBe('DeadlineExceededError');
  });
});
