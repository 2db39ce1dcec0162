import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, startHarness, type DynamoCall, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { standardWebhooksSender } from '../helpers/signed.js';

/**
 * What each outcome writes, per table, with both limits configured: a refused
 * delivery never touches the deliveries table (so a stream consumer never sees
 * it), and a copy racing a refused delivery is never told `duplicate` for a
 * record that is later removed.
 */
const SECRET = TEST_SECRETS.standardWebhooks;
let clock = 1_900_000_000_000 - (1_900_000_000_000 % 60_000) + 1_000;
const signed = standardWebhooksSender({ prefix: 'msg_cost', now: () => clock });

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

describe('admission cost and order, both limits, over real HTTP and dynalite', () => {
  let h: Harness;
  const byTable = (calls: readonly DynamoCall[]) => ({
    deliveries: calls.filter((c) => c.table === h.config.tables.deliveries && WRITES.has(c.command)).map((c) => c.command),
    rateLimits: calls.filter((c) => c.table === h.config.tables.rateLimits && WRITES.has(c.command)).map((c) => c.command),
  });
  /** The writes one request makes. */
  const writesOf = async (d: ReturnType<typeof signed>, expectStatus: number) => {
    const start = h.calls.length;
    const res = await h.post('/webhooks/default', d.body, d.headers);
    expect(res.status).toBe(expectStatus);
    return byTable(h.calls.slice(start));
  };

  /** Uses up one admission of the window. */
  const fill = async () => {
    const d = signed();
    return h.post('/webhooks/default', d.body, d.headers);
  };

  beforeAll(async () => {
    h = await startHarness(
      { WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '4/60s', WEBHOOK_CLIENT_RATE_LIMIT: '100/60s' },
      { now: () => clock, containment: true },
    );
    const warm = signed();
    await h.post('/webhooks/default', warm.body, warm.headers);
  });
  afterAll(() => h.close());

  it('admitted: one conditional put on deliveries, one counter write per limit', async () => {
    expect(await writesOf(signed(), 202)).toEqual({ deliveries: ['PutItem'], rateLimits: ['UpdateItem', 'UpdateItem'] });
  });

  it('duplicate: the failed put, and the counts given back', async () => {
    const d = signed();
    await writesOf(d, 202);
    const writes = await writesOf(d, 200);
    expect(writes.deliveries).toEqual(['PutItem']);
    expect(writes.rateLimits).toHaveLength(4); // two counts, two given back
  });

  it('refused: no write at all on the deliveries table, and nothing stored; three counter writes', async () => {
    for (let i = 0; i < 4; i++) await fill();
    const over = signed();
    const writes = await writesOf(over, 429);
    expect(writes.deliveries).toEqual([]);
    // Both counts (the refusing one fails its condition, still a billed write), then the admitted one given back: docs/deploy.md's costs.
    expect(writes.rateLimits).toEqual(['UpdateItem', 'UpdateItem', 'UpdateItem']);
    expect(await h.store.get('default', over.id, Math.floor(clock / 1000))).toBeUndefined();
  });

  it('a copy of a stored delivery over the limit is still 200 duplicate, not 429', async () => {
    clock += 120_000;
    const first = signed();
    expect((await h.post('/webhooks/default', first.body, first.headers)).status).toBe(202);
    for (let i = 0; i < 4; i++) await fill();
    const res = await h.post('/webhooks/default', first.body, first.headers);
    expect(res.status).toBe(200);
    expect((await readJson(res)).status).toBe('duplicate');
  });

  it('a copy of a large stored delivery over the limit is answered from one read of its record, not of its parts', async () => {
    clock += 120_000;
    // Base64 of random bytes gzips to about 3/4 of its length: past the 380,000 bytes one item holds, so stored in parts.
    const first = signed({ body: JSON.stringify({ type: 'large.test', data: randomBytes(560_000).toString('base64') }) });
    expect((await h.post('/webhooks/default', first.body, first.headers)).status).toBe(202);
    for (let i = 0; i < 4; i++) await fill();
    const start = h.calls.length;
    const res = await h.post('/webhooks/default', first.body, first.headers);
    expect(res.status).toBe(200);
    expect((await readJson(res)).status).toBe('duplicate');
    // Before: the answer read the whole delivery through get, its record and then each of its parts (380 KB each).
    const reads = h.calls.slice(start).filter((c) => c.table === h.config.tables.deliveries && !WRITES.has(c.command));
    expect(reads.map((c) => c.command)).toEqual(['GetItem']);
  });

  it('races copies of refused deliveries: every duplicate answered refers to a record that stays', async () => {
    clock += 120_000;
    const deliveries = Array.from({ length: 12 }, () => signed());
    // Three copies of each, all at once: the limit (4) refuses most of them.
    const answers = await Promise.all(
      deliveries.flatMap((d) => [0, 1, 2].map(async () => ({ d, status: (await h.post('/webhooks/default', d.body, d.headers)).status }))),
    );
    const nowSeconds = Math.floor(clock / 1000);
    for (const { d, status } of answers) {
      const stored = await h.store.get('default', d.id, nowSeconds);
      if (status === 200 || status === 202) expect(stored, `${d.id} answered ${status}`).toBeDefined();
      if (status === 429) {
        // Refused copies leave nothing, unless another copy of the same delivery was admitted.
        const admitted = answers.some((a) => a.d.id === d.id && a.status === 202);
        expect(stored === undefined).toBe(!admitted);
      }
    }
    expect(answers.filter((a) => a.status === 202).length).toBeLessThanOrEqual(4);
    expect(answers.filter((a) => a.status === 202).length).toBeGreaterThan(0);
  });
});
