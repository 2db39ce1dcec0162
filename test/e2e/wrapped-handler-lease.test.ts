import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withHookwarden } from '../../core/pipeline.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const signed = standardWebhooksSender({ prefix: 'msg_lease' });

// A team that sets `leaseSeconds` below its function's timeout (1 s here, the local invocation has 10 s): a handler
// slower than the lease still runs when the provider's retry arrives. Real HTTP, dynalite, an injected clock.
describe('a wrapped handler whose leaseSeconds is shorter than its invocation', () => {
  let h: Harness;
  let offsetMs = 0;
  const runs: string[] = [];
  const slow = new Map<string, Promise<void>>();

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks },
      {
        now: () => Date.now() + offsetMs,
        containment: true,
        webhookHandler: (deps) =>
          withHookwarden(
            async (_event, context) => {
              const id = context.hookwarden.delivery.deliveryId;
              runs.push(id);
              await slow.get(id);
              return { statusCode: 202, body: '' };
            },
            { ...deps, leaseSeconds: 1 },
          ),
      },
    );
  });
  afterAll(() => h.close());

  const nowSeconds = (): number => Math.floor((Date.now() + offsetMs) / 1000);

  it('holds the retry off (409) while the first run still runs, past the lease it was given', async () => {
    const d = signed();
    let release!: () => void;
    slow.set(d.id, new Promise<void>((resolve) => (release = resolve)));
    const first = h.post('/webhooks/default', d.body, d.headers);
    for (let i = 0; i < 200 && !runs.includes(d.id); i++) await new Promise((r) => setTimeout(r, 5));
    expect(runs).toContain(d.id);
    // The first run waits for release(); a second run, if the retry reached the handler, would not.
    slow.delete(d.id);
    // 5 s later by the clock: past the 1 s lease, well within the invocation's 10 s.
    offsetMs += 5_000;
    const retry = await h.post('/webhooks/default', d.body, d.headers);
    release();
    expect(retry.status).toBe(409);
    expect((await first).status).toBe(202);
    expect(runs.filter((id) => id === d.id)).toHaveLength(1);
    expect((await h.store.get('default', d.id, nowSeconds()))?.status).toBe('stored');
  });

  it('runs the handler once for 20 copies sent at once', async () => {
    const d = signed();
    let release!: () => void;
    slow.set(d.id, new Promise<void>((resolve) => (release = resolve)));
    const copies = Array.from({ length: 20 }, () => h.post('/webhooks/default', d.body, d.headers));
    for (let i = 0; i < 200 && !runs.includes(d.id); i++) await new Promise((r) => setTimeout(r, 5));
    // Every copy but the running one is answered while it runs.
    await new Promise((r) => setTimeout(r, 300));
    release();
    const statuses = (await Promise.all(copies)).map((res) => res.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 202).every((s) => s === 409 || s === 200)).toBe(true);
    expect(runs.filter((id) => id === d.id)).toHaveLength(1);
    const again = await h.post('/webhooks/default', d.body, d.headers);
    expect(again.status).toBe(200);
    expect(runs.filter((id) => id === d.id)).toHaveLength(1);
  });
});
