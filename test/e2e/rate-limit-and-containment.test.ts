import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
let clock = 1_800_000_000_000 - (1_800_000_000_000 % 60_000) + 1_000;
const signed = standardWebhooksSender({ prefix: 'msg_rl', now: () => clock });

describe('sliding-window limits over real HTTP and dynalite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '3/60s' }, { now: () => clock, containment: true });
  });
  afterAll(() => h.close());

  it('answers 429 over the limit with Retry-After and the IETF RateLimit headers; nothing stored', async () => {
    const first = [signed(), signed(), signed()];
    for (const d of first) expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    // A copy of an accepted delivery is still a duplicate, and is not counted.
    expect((await h.post('/webhooks/default', first[0]!.body, first[0]!.headers)).status).toBe(200);
    const over = signed();
    const res = await h.post('/webhooks/default', over.body, over.headers);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('ratelimit-policy')).toBe('"webhooks";q=3;w=60');
    expect(res.headers.get('ratelimit')).toMatch(/^"webhooks";r=0;t=\d+$/);
    expect((await readJson(res)).error.code).toBe('rate_limited');
    expect(await h.store.get('default', over.id, Math.floor(clock / 1000))).toBeUndefined();

    // The provider retries after Retry-After: accepted once the window has slid.
    clock += 120_000;
    const retry = { ...over, ...signed({ id: over.id }) };
    expect((await h.post('/webhooks/default', retry.body, retry.headers)).status).toBe(202);
  });

  it('costs two writes per accepted delivery (the counter, then the delivery), and no call for a forged one', async () => {
    clock += 120_000;
    const warm = signed();
    await h.post('/webhooks/default', warm.body, warm.headers);
    const before = h.dynamoCalls();
    const d = signed();
    expect((await h.post('/webhooks/default', d.body, d.headers)).status).toBe(202);
    expect(h.dynamoCalls() - before).toBe(2);
    const forged = signed();
    const afterAccepted = h.dynamoCalls();
    expect((await h.post('/webhooks/default', `${forged.body} `, forged.headers)).status).toBe(401);
    expect(h.dynamoCalls()).toBe(afterAccepted);
  });
});

describe('blocklist and source switch', () => {
  let h: Harness;
  let controls: DynamoDbControlsStore;
  /**
   * Sends fresh signed deliveries until one answers `status` (the cache refreshes in the background), for up to 20 s by the
   * clock: a count of attempts is over sooner the faster the requests are answered, not when the refresh is late.
   */
  const eventually = async (status: number): Promise<Response> => {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const d = signed();
      const res = await h.post('/webhooks/default', d.body, d.headers);
      if (res.status === status) return res;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`never answered ${status}`);
  };

  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: SECRET }, { now: () => clock, containment: true });
    controls = new DynamoDbControlsStore({ client: h.client, tableName: h.config.tables.rateLimits });
    await eventually(202);
  });
  afterAll(() => h.close());

  it('refuses a blocked client with 403 ip_blocked once the cache refreshes (15 s), and lets it back after unblock', async () => {
    await controls.block({
      range: '127.0.0.0/8',
      expiresAt: Math.floor(clock / 1000) + 3600,
      reason: 'incident 42',
      createdAt: Math.floor(clock / 1000),
    });
    // Within the refresh interval the cached state still applies: no read per request.
    expect((await eventually(202)).status).toBe(202);
    clock += 15_000;
    const refused = await eventually(403);
    expect((await readJson(refused)).error.code).toBe('ip_blocked');

    await controls.unblock('127.0.0.0/8');
    clock += 15_000;
    expect((await eventually(202)).status).toBe(202);
  });

  it('drops an expired block without waiting for a refresh', async () => {
    await controls.block({
      range: '127.0.0.1',
      expiresAt: Math.floor(clock / 1000) + 20,
      reason: 'short',
      createdAt: Math.floor(clock / 1000),
    });
    clock += 15_000;
    await eventually(403);
    clock += 6_000;
    expect((await eventually(202)).status).toBe(202);
  });

  it('answers a disabled source with 503 source_disabled and Retry-After, so providers retry', async () => {
    await controls.disable('default', 'maintenance', Math.floor(clock / 1000));
    clock += 15_000;
    const res = await eventually(503);
    expect(res.headers.get('retry-after')).toBe('300');
    expect((await readJson(res)).error.code).toBe('source_disabled');
    await controls.enable('default');
    clock += 15_000;
    expect((await eventually(202)).status).toBe(202);
  });
});
