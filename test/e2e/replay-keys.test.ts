import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/**
 * Replays of a captured delivery under a fresh, unsigned delivery id: the
 * replay key comes from signed material only, so each is a duplicate and
 * nothing is stored twice (webhook-schemes.md, "Delivery id").
 */
interface Case {
  readonly name: string;
  readonly env: Record<string, string>;
  /** Headers for `body` with the given provider id. */
  readonly headers: (body: string, id: string) => Promise<Record<string, string>>;
  /** Whether the provider id is covered by the signature (then a fresh id is a new delivery). */
  readonly signsId: boolean;
}

const hmacMac = (text: string): string => createHmac('sha256', TEST_SECRETS.hmac).update(text).digest('hex');
const STARTED = String(Math.floor(Date.now() / 1000));

const CASES: Case[] = [
  {
    name: 'github (X-GitHub-Delivery unsigned)',
    env: { WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: TEST_SECRETS.github },
    headers: async (body, id) => ({
      'x-github-delivery': id,
      'x-github-event': 'push',
      'x-hub-signature-256': await octokitSign(TEST_SECRETS.github, body),
    }),
    signsId: false,
  },
  {
    name: 'shopify (X-Shopify-Webhook-Id unsigned)',
    env: { WEBHOOK_SCHEME: 'shopify', WEBHOOK_SECRET: TEST_SECRETS.shopify },
    headers: async (body, id) => ({
      'x-shopify-webhook-id': id,
      'x-shopify-topic': 'orders/create',
      'x-shopify-hmac-sha256': createHmac('sha256', TEST_SECRETS.shopify).update(body).digest('base64'),
    }),
    signsId: false,
  },
  {
    // An id header outside the template is a configuration error (it would not be signed); a sender may still send one.
    name: 'hmac without an id: a replay adding an id header',
    env: { WEBHOOK_SCHEME: 'hmac', WEBHOOK_SECRET: TEST_SECRETS.hmac, WEBHOOK_HMAC_HEADER: 'x-sig' },
    headers: async (body, id) => ({ 'x-id': id, 'x-sig': hmacMac(body) }),
    signsId: false,
  },
  {
    name: 'hmac with {id} in the template',
    env: {
      WEBHOOK_SCHEME: 'hmac',
      WEBHOOK_SECRET: TEST_SECRETS.hmac,
      WEBHOOK_HMAC_HEADER: 'x-sig',
      WEBHOOK_HMAC_ID_HEADER: 'x-id',
      WEBHOOK_HMAC_TEMPLATE: '{id}.{body}',
    },
    headers: async (body, id) => ({ 'x-id': id, 'x-sig': hmacMac(`${id}.${body}`) }),
    signsId: true,
  },
  {
    name: 'hmac with a signed timestamp and no id',
    env: {
      WEBHOOK_SCHEME: 'hmac',
      WEBHOOK_SECRET: TEST_SECRETS.hmac,
      WEBHOOK_HMAC_HEADER: 'x-sig',
      WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-ts',
      WEBHOOK_HMAC_TEMPLATE: '{timestamp}.{body}',
    },
    // One timestamp for the whole file: a replay repeats the captured one.
    headers: async (body) => ({ 'x-ts': STARTED, 'x-sig': hmacMac(`${STARTED}.${body}`) }),
    signsId: false,
  },
];

describe.each(CASES)('replay under a fresh id: $name', ({ env, headers, signsId }) => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness(env);
  });
  afterAll(() => h.close());

  const scanCount = async (): Promise<number> => (await h.store.list({ limit: 1000, nowSeconds: Math.floor(Date.now() / 1000) })).length;

  it('a redelivery (same id) and a replay under a new id are both 200 duplicate; one item stored', async () => {
    const body = JSON.stringify({ action: 'opened', n: ++n, at: Date.now() });
    const first = await h.post('/webhooks/default', body, await headers(body, 'delivery-1'));
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as { id: string; providerId?: string };
    const before = await scanCount();

    const redelivery = await h.post('/webhooks/default', body, await headers(body, 'delivery-1'));
    const replay = await h.post('/webhooks/default', body, await headers(body, 'attacker-chosen-2'));
    if (signsId) {
      // The id is signed: "delivery-1" and "attacker-chosen-2" are two messages the sender signed.
      expect(redelivery.status).toBe(200);
      expect(replay.status).toBe(202);
      return;
    }
    expect(redelivery.status).toBe(200);
    expect(replay.status).toBe(200);
    expect((await readJson(replay)).status).toBe('duplicate');
    expect(await scanCount()).toBe(before);
    // The key is a one-way hash, never the MAC; the provider's unsigned id is kept for display.
    expect(accepted.id).toMatch(/^sig_[0-9a-f]{32}$/);
    const stored = await h.store.get('default', accepted.id, Math.floor(Date.now() / 1000));
    if (env.WEBHOOK_SCHEME !== 'hmac') {
      expect(accepted.providerId).toBe('delivery-1');
      expect(stored?.providerId).toBe('delivery-1');
    }
    const sent = Object.values(await headers(body, 'x')).join(' ');
    expect(sent).not.toContain(accepted.id.slice(4));
  });
});
