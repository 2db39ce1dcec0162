import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withHookwarden } from '../../core/pipeline.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';
import { deliveryRecord } from '../helpers/stored-delivery.js';

const signed = standardWebhooksSender({ prefix: 'msg_outlives' });

/** The local invocation's 10 s and a second: the lease a wrapped handler's claim gets on the local server. */
const LOCAL_LEASE_SECONDS = 11;

// On Lambda a handler still running at the function's timeout is ended; on the local server (`npm start`) nothing ends
// it (a breakpoint, a slow call). Real HTTP, dynalite, an injected clock that jumps past the lease while it runs.
describe('a wrapped handler that runs past its lease on the local server', () => {
  let h: Harness;
  let offsetMs = 0;
  const runs: string[] = [];
  const slow = new Map<string, Promise<number>>();

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks },
      {
        now: () => Date.now() + offsetMs,
        containment: true,
        webhookHandler: (deps) =>
          withHookwarden(async (_event, context) => {
            const id = context.hookwarden.delivery.deliveryId;
            runs.push(id);
            const status = (await slow.get(id)) ?? 202;
            return { statusCode: status, body: '' };
          }, deps),
      },
    );
  });
  afterAll(() => h.close());

  const nowSeconds = (): number => Math.floor((Date.now() + offsetMs) / 1000);

  /** Posts `d` and resolves once its handler runs; `finish(status)` lets the handler answer. */
  const startSlow = async (d: ReturnType<typeof signed>) => {
    let finish!: (status: number) => void;
    slow.set(d.id, new Promise<number>((resolve) => (finish = resolve)));
    const first = h.post('/webhooks/default', d.body, d.headers);
    for (let i = 0; i < 400 && !runs.includes(d.id); i++) await new Promise((r) => setTimeout(r, 5));
    expect(runs).toContain(d.id);
    // The first run waits for finish(); a second run, if a copy reached the handler, would answer at once.
    slow.delete(d.id);
    return { first, finish };
  };

  it('holds the retry off (409, Retry-After) while the first run still runs past its lease, then answers it duplicate', async () => {
    const d = signed();
    const { first, finish } = await startSlow(d);
    // 15 s later by the clock: past the 11 s lease, and the renewal timer has not run yet.
    offsetMs += 15_000;
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    expect(retry.status).toBe(409);
    expect(Number(retry.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(runs.filter((id) => id === d.id)).toHaveLength(1);
    finish(202);
    expect((await first).status).toBe(202);
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
    const after = await h.post('/webhooks/default', d.body, d.headers);
    expect(after.status).toBe(200);
    expect(runs.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('keeps the record processing while the handler runs: its lease is renewed past the clock', async () => {
    const d = signed();
    const { first, finish } = await startSlow(d);
    offsetMs += 15_000;
    // Every third of the lease (about 3.7 s) the lease moves a whole lease past now.
    let state = await h.store.stateOf('default', d.id, nowSeconds());
    for (let i = 0; i < 60 && state === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await h.store.stateOf('default', d.id, nowSeconds());
    }
    expect(state?.status).toBe('processing');
    expect(state?.leaseExpiresAt).toBeGreaterThan(nowSeconds());
    expect(state?.leaseExpiresAt).toBeLessThanOrEqual(nowSeconds() + LOCAL_LEASE_SECONDS);
    finish(202);
    expect((await first).status).toBe(202);
    expect((await h.store.stateOf('default', d.id, nowSeconds()))?.status).toBe('stored');
  }, 15_000);

  it.each([
    ['complete', 202],
    ['release', 503],
  ] as const)(
    'warns and counts DeliveryLeaseLost when its %s finds the delivery taken over by another claim (as another instance would)',
    async (step, status) => {
      const d = signed();
      const { first, finish } = await startSlow(d);
      let answer: Response | undefined;
      const lines = await jsonLinesDuring(async () => {
        // An hour on by another instance's clock: past any lease this process could have renewed.
        const taken = await h.store.claim(deliveryRecord(d.id, nowSeconds() + 3600), {
          nowSeconds: nowSeconds() + 3600,
          leaseSeconds: 60,
        });
        expect(taken.outcome).toBe('claimed');
        // Past this process's lease too (its renewals stop once the record is another's): a takeover comes no sooner.
        offsetMs += 15_000;
        finish(status);
        answer = await first;
      });
      // The answer stands: the work is done (or declined), the claim that took over decides what follows.
      expect(answer?.status).toBe(status);
      const warning = lines.find((l) => typeof l.message === 'string' && l.message.startsWith('delivery lease lost'));
      expect(warning).toMatchObject({ level: 'WARN', source: 'default', deliveryId: d.id, step, leaseExpiresAt: expect.any(Number) });
      expect(lines.find((l) => 'DeliveryLeaseLost' in l)).toMatchObject({ DeliveryLeaseLost: 1, service: 'hookwarden' });
      expect(JSON.stringify(lines)).not.toContain(d.headers['webhook-signature']);
      expect(JSON.stringify(lines)).not.toContain(d.body);
      // Neither completed nor removed under the claim that holds it now.
      expect(await h.store.stateOf('default', d.id, nowSeconds() + 3600)).toMatchObject({ status: 'processing' });
    },
  );

  it('holds a copy off (409) while the first run’s complete is on its way, even past a lease that lapsed in a pause', async () => {
    const d = signed();
    const { first, finish } = await startSlow(d);
    // The first run's complete (the UpdateItem that marks it stored) waits until the copy has been answered; only the
    // first: a second run's complete, if the copy ran the handler again, goes through.
    let held = false;
    let reached!: () => void;
    let send!: () => void;
    const completing = new Promise<void>((resolve) => (reached = resolve));
    const sent = new Promise<void>((resolve) => (send = resolve));
    const name = `holdComplete:${d.id}`;
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: { pk?: { S?: string } }; UpdateExpression?: string };
        if (
          !held &&
          context.commandName === 'UpdateItemCommand' &&
          input.Key?.pk?.S === `default#${d.id}` &&
          input.UpdateExpression?.includes(':stored')
        ) {
          held = true;
          reached();
          await sent;
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      finish(202);
      await completing;
      // A minute on (a debugger paused the handler; its renewals stopped when it settled): the record's lease has lapsed.
      offsetMs += 60_000;
      const copy = await h.post('/webhooks/default', d.body, d.headers);
      // Before, the run was forgotten as it settled: the copy took the lapsed lease over and ran the handler again.
      expect(copy.status).toBe(409);
      expect(runs.filter((id) => id === d.id)).toHaveLength(1);
    } finally {
      send();
      h.client.middlewareStack.remove(name);
    }
    expect((await first).status).toBe(202);
    expect((await h.store.stateOf('default', d.id, nowSeconds()))?.status).toBe('stored');
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(200);
    expect(runs.filter((id) => id === d.id)).toHaveLength(1);
  });

  it('says nothing of a lease when the handler completes within it', async () => {
    const d = signed();
    const { first, finish } = await startSlow(d);
    const lines = await jsonLinesDuring(async () => {
      finish(202);
      expect((await first).status).toBe(202);
    });
    expect(lines.some((l) => 'DeliveryLeaseLost' in l || String(l.message).includes('lease'))).toBe(false);
  });
});
