import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
let clock = 1_800_000_000_000;
const signed = standardWebhooksSender({ prefix: 'msg_idle', now: () => clock });

describe('containment after an idle period, over real HTTP and dynalite', () => {
  let h: Harness;
  let controls: DynamoDbControlsStore;
  const post = () => {
    const d = signed();
    return h.post('/webhooks/default', d.body, d.headers);
  };
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET }, { now: () => clock, containment: true });
    controls = new DynamoDbControlsStore({ client: h.client, tableName: h.config.tables.rateLimits });
  });
  afterAll(() => h.close());

  it('refuses the very first request after the idle period when a block was made meanwhile', async () => {
    expect((await post()).status).toBe(202);
    clock += 10 * 60_000; // idle: no request for ten minutes
    await controls.block({
      range: '127.0.0.0/8',
      expiresAt: Math.floor(clock / 1000) + 3600,
      reason: 'made while idle',
      createdAt: Math.floor(clock / 1000),
    });
    clock += 1_000;
    const res = await post();
    expect(res.status).toBe(403);
    expect((await readJson(res)).error.code).toBe('ip_blocked');

    await controls.unblock('127.0.0.0/8');
    clock += 10 * 60_000;
    expect((await post()).status).toBe(202);
  });

  it('applies a source switch made while idle on the first request too', async () => {
    clock += 10 * 60_000;
    await controls.disable('default', 'made while idle', Math.floor(clock / 1000));
    clock += 1_000;
    const res = await post();
    expect(res.status).toBe(503);
    expect((await readJson(res)).error.code).toBe('source_disabled');
    await controls.enable('default');
  });
});
