import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbControlsStore } from '../../core/stores/controls-store.js';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

const SECRET = TEST_SECRETS.standardWebhooks;
let clock = 1_800_000_000_000 - (1_800_000_000_000 % 60_000) + 1_000;
const signed = standardWebhooksSender({ prefix: 'msg_mapped', now: () => clock });

// 198.51.100.21 is c633:6415 in hex; the local server's peer (127.0.0.1) is a trusted proxy here.
const SPELLINGS = ['198.51.100.21', '::ffff:c633:6415', '::FFFF:198.51.100.21', '0:0:0:0:0:ffff:c633:6415', '::ffff:C633:6415'];

describe('one client, whatever spelling of its IPv4-mapped address, over real HTTP', () => {
  let h: Harness;
  const post = (forwardedFor: string) => {
    const d = signed();
    return h.post('/webhooks/default', d.body, { ...d.headers, 'X-Forwarded-For': forwardedFor });
  };
  beforeAll(async () => {
    h = await startHarness(
      {
        WEBHOOK_SECRET: SECRET,
        TRUSTED_PROXIES: '127.0.0.1',
        WEBHOOK_ALLOWED_IPS: '198.51.100.0/24',
        WEBHOOK_CLIENT_RATE_LIMIT: `${SPELLINGS.length}/60s`,
      },
      { now: () => clock, containment: true },
    );
  });
  afterAll(() => h.close());

  it('shares one per-client bucket across the spellings', async () => {
    for (const spelling of SPELLINGS) expect((await post(spelling)).status).toBe(202);
    for (const spelling of SPELLINGS) {
      const res = await post(spelling);
      expect(res.status).toBe(429);
      expect((await readJson(res)).error.code).toBe('rate_limited');
    }
    // Another client (and the IPv6 bucket all mapped addresses used to share) is unaffected.
    expect((await post('198.51.100.22')).status).toBe(202);
  });

  it('admits the hex spelling by the IPv4 allowlist, and refuses it when the IPv4 address is blocked', async () => {
    clock += 120_000;
    expect((await post('::ffff:c633:6415')).status).toBe(202);
    expect((await post('::ffff:c633:7415')).status).toBe(403); // 198.51.116.21: outside the allowlist
    const controls = new DynamoDbControlsStore({ client: h.client, tableName: h.config.tables.rateLimits });
    await controls.block({
      range: '198.51.100.21',
      expiresAt: Math.floor(clock / 1000) + 3600,
      reason: 'mapped',
      createdAt: Math.floor(clock / 1000),
    });
    clock += 31_000;
    for (const spelling of SPELLINGS) {
      const res = await post(spelling);
      expect(res.status).toBe(403);
      expect((await readJson(res)).error.code).toBe('ip_blocked');
    }
    await controls.unblock('198.51.100.21');
    // A block written in the hex spelling (by hand, or by an older CLI) covers the dotted address too.
    await controls.block({
      range: '::ffff:c633:6415',
      expiresAt: Math.floor(clock / 1000) + 3600,
      reason: 'mapped',
      createdAt: Math.floor(clock / 1000),
    });
    clock += 31_000;
    const res = await post('198.51.100.21');
    expect(res.status).toBe(403);
    expect((await readJson(res)).error.code).toBe('ip_blocked');
  });
});
