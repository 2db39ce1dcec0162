import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/**
 * A copy of a delivery verifies until its signed timestamp is WEBHOOK_MAX_AGE old, so its record must live past that
 * second. With the shortest retention the configuration allows (twice the maximum age) and a sender whose clock runs
 * the whole maximum age ahead, the record expired at the very second a copy still verified: that copy was stored (and
 * a wrapped handler run) a second time. Each sender signs with its own library.
 */
const MAX_AGE = 300;
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

interface Sender {
  readonly name: string;
  readonly env: Record<string, string>;
  /** A signed delivery, its timestamp `timestampSeconds`. */
  readonly sign: (timestampSeconds: number) => { body: string; headers: Record<string, string> };
}

const SENDERS: Sender[] = [
  {
    name: 'standard-webhooks',
    env: { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks },
    sign: (seconds) => {
      const body = '{"type":"boundary.test"}';
      const signature = new Webhook(TEST_SECRETS.standardWebhooks).sign('msg_boundary', new Date(seconds * 1000), body);
      return { body, headers: { 'webhook-id': 'msg_boundary', 'webhook-timestamp': String(seconds), 'webhook-signature': signature } };
    },
  },
  {
    name: 'stripe',
    env: { WEBHOOK_SCHEME: 'stripe', WEBHOOK_SECRET: TEST_SECRETS.stripe },
    sign: (timestamp) => {
      const body = '{\n  "id": "evt_boundary",\n  "type": "invoice.paid"\n}';
      const header = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: TEST_SECRETS.stripe, timestamp });
      return { body, headers: { 'stripe-signature': header } };
    },
  },
  {
    name: 'slack',
    env: { WEBHOOK_SCHEME: 'slack', WEBHOOK_SECRET: TEST_SECRETS.slack },
    sign: (seconds) => {
      const body = '{"type":"event_callback","event":{"type":"message"},"event_id":"Ev_boundary"}';
      const mac = createHmac('sha256', TEST_SECRETS.slack).update(`v0:${seconds}:${body}`).digest('hex');
      return { body, headers: { 'x-slack-request-timestamp': String(seconds), 'x-slack-signature': `v0=${mac}` } };
    },
  },
];

describe.each(SENDERS)('$name: a copy at the edge of the window, with the shortest retention allowed', (sender) => {
  let clock = T0;
  // Read in turn by the next calls to the clock (the route, the signature check, the claim), before `clock`.
  let readings: number[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      { ...sender.env, WEBHOOK_MAX_AGE: String(MAX_AGE), WEBHOOK_RETENTION_SECONDS: String(2 * MAX_AGE) },
      { now: () => readings.shift() ?? clock },
    );
  });
  afterAll(() => h.close());

  it('is a duplicate up to the last second it verifies, then refused as stale', async () => {
    // The sender's clock is the whole maximum age ahead: the first copy is accepted as fresh.
    const delivery = sender.sign(T0 / 1000 + MAX_AGE);
    expect((await h.post('/webhooks/default', delivery.body, delivery.headers)).status).toBe(202);
    for (const after of [MAX_AGE, 2 * MAX_AGE - 1, 2 * MAX_AGE, 2 * MAX_AGE + 0.999]) {
      clock = T0 + after * 1000;
      const res = await h.post('/webhooks/default', delivery.body, delivery.headers);
      expect([after, res.status, await readJson(res)]).toEqual([after, 200, expect.objectContaining({ status: 'duplicate' })]);
    }
    // The clock ticks into the next second between the copy's signature check (still fresh) and its claim.
    const edge = T0 + 2 * MAX_AGE * 1000 + 999;
    readings = [edge, edge, edge + 1];
    const ticked = await h.post('/webhooks/default', delivery.body, delivery.headers);
    expect([readings, ticked.status, await readJson(ticked)]).toEqual([[], 200, expect.objectContaining({ status: 'duplicate' })]);
    clock = T0 + (2 * MAX_AGE + 1) * 1000;
    const stale = await h.post('/webhooks/default', delivery.body, delivery.headers);
    expect([stale.status, (await readJson(stale)).error.code]).toEqual([401, 'timestamp_out_of_range']);
  });
});
