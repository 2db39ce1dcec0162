import { sign as octokitSign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withHookwarden } from '../../core/pipeline.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

// A source kept a short time (GitHub signs no timestamp, so WEBHOOK_RETENTION_SECONDS may be 2) in front of a wrapped
// handler: a `processing` record counted as absent once its retention passed, whatever its lease said. Real HTTP,
// dynalite, GitHub's own signer, an injected clock.
describe('a wrapped handler slower than its source retention', () => {
  let h: Harness;
  let offsetMs = 0;
  const runs: string[] = [];
  let gate: Promise<void> | undefined;

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: TEST_SECRETS.github, WEBHOOK_RETENTION_SECONDS: '2' },
      {
        now: () => Date.now() + offsetMs,
        containment: true,
        webhookHandler: (deps) =>
          withHookwarden(async (_event, context) => {
            runs.push(context.hookwarden.delivery.deliveryId);
            await gate;
            return { statusCode: 202, body: '' };
          }, deps),
      },
    );
  });
  afterAll(() => h.close());

  it('holds the retry off (409) until the lease, not the retention, passes', async () => {
    const body = JSON.stringify({ action: 'opened', n: Date.now() });
    const headers = {
      'content-type': 'application/json',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-event': 'issues',
      'x-hub-signature-256': await octokitSign(TEST_SECRETS.github, body),
    };
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const first = h.post('/webhooks/default', body, headers);
    for (let i = 0; i < 200 && runs.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(runs).toHaveLength(1);
    gate = undefined;
    // 5 s later by the clock: past the 2 s retention, within the invocation (10 s locally) and so its lease.
    offsetMs += 5_000;
    const retry = await h.post('/webhooks/default', body, headers);
    release();
    expect(retry.status).toBe(409);
    expect((await first).status).toBe(202);
    expect(runs).toHaveLength(1);
  });
});
