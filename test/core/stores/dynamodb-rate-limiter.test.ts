import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRateLimiter } from '../../../core/stores/dynamodb-rate-limiter.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { countCalls } from '../../helpers/harness.js';

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000); // a window boundary
let k = 0;
const key = () => `test:${++k}`;

describe('DynamoDbRateLimiter against dynalite', () => {
  let local: LocalStore;
  let patient: DynamoDBClient;
  beforeAll(async () => {
    local = await startLocalStore();
    // 200 requests at once open many sockets: a patient client, so a loaded machine tests the limiter, not connect timeouts.
    patient = createDynamoDbClient({ endpoint: local.endpoint, region: 'local', connectionTimeoutMs: 15_000, requestTimeoutMs: 15_000 });
  });
  afterAll(async () => {
    patient.destroy();
    await local.close();
  });
  const limiter = () => new DynamoDbRateLimiter({ client: patient, tableName: RATE_LIMITS_TABLE.localName });

  it('admits exactly 50 of 200 concurrent requests on one key with limit 50', async () => {
    const l = limiter();
    const id = key();
    const decisions = await Promise.all(Array.from({ length: 200 }, () => l.hit(id, { limit: 50, windowSeconds: 60 }, T0 + 1000)));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(50);
    // Across containers too: a second limiter (another container) sees the same count.
    expect((await limiter().hit(id, { limit: 50, windowSeconds: 60 }, T0 + 2000)).admitted).toBe(false);
  });

  it('carries the previous window, weighted, into the next', async () => {
    const l = limiter();
    const id = key();
    const rate = { limit: 10, windowSeconds: 60 };
    for (let i = 0; i < 10; i++) expect((await l.hit(id, rate, T0 + i)).admitted).toBe(true);
    // 30 s into the next window half of the previous 10 still count: 5 more fit.
    const next = await Promise.all(Array.from({ length: 8 }, () => l.hit(id, rate, T0 + 90_000)));
    expect(next.filter((d) => d.admitted)).toHaveLength(5);
    const refused = next.find((d) => !d.admitted);
    expect(refused?.retryAfterSeconds).toBeGreaterThan(0);
    // Two windows later the history is gone.
    expect((await l.hit(id, rate, T0 + 185_000)).admitted).toBe(true);
  });

  it("counts in a window ahead of its clock (another container's clock runs ahead, or its own stepped back) rather than refuse", async () => {
    const id = key();
    const rate = { limit: 3, windowSeconds: 60 };
    // One container's clock is 20 ms ahead and has rolled the key into the next window already.
    expect((await limiter().hit(id, rate, T0 + 60_010)).admitted).toBe(true);
    // Another's is still 10 ms before that boundary: its requests count in that window, against its limit.
    const behind = limiter();
    const second = await behind.hit(id, rate, T0 + 59_990);
    expect(second.admitted).toBe(true);
    expect((await behind.hit(id, rate, T0 + 59_995)).admitted).toBe(true);
    expect((await behind.hit(id, rate, T0 + 59_996)).admitted).toBe(false);
    expect((await limiter().hit(id, rate, T0 + 60_020)).admitted).toBe(false);
    // A count given back is given back in that window.
    await second.undo();
    expect((await limiter().hit(id, rate, T0 + 60_030)).admitted).toBe(true);
    expect((await limiter().hit(id, rate, T0 + 60_040)).admitted).toBe(false);
  });

  it('makes one write and no read per admitted request once warm', async () => {
    const l = new DynamoDbRateLimiter({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
    const calls = countCalls(local.client);
    const id = key();
    await l.hit(id, { limit: 100, windowSeconds: 60 }, T0 + 1);
    const start = calls.count();
    for (let i = 0; i < 20; i++) await l.hit(id, { limit: 100, windowSeconds: 60 }, T0 + 10 + i);
    expect(calls.count() - start).toBe(20);
    expect(calls.names.slice(start).every((name) => name === 'UpdateItemCommand')).toBe(true);
  });

  it('gives an admission back on undo, so only processed requests count', async () => {
    const l = limiter();
    const id = key();
    const rate = { limit: 1, windowSeconds: 60 };
    const first = await l.hit(id, rate, T0 + 5);
    expect(first.admitted).toBe(true);
    expect((await l.hit(id, rate, T0 + 6)).admitted).toBe(false);
    await first.undo();
    expect((await l.hit(id, rate, T0 + 7)).admitted).toBe(true);
  });

  it('counts a cost all at once: admitted only when all of it fits, in both the first and the steady write', async () => {
    const rate = { limit: 1000, windowSeconds: 60 };
    const id = key();
    const l = limiter();
    // The first hit of the container (the probe) and the steady-state ones after it.
    expect((await l.hit(id, rate, T0 + 1, 400)).admitted).toBe(true);
    const second = await l.hit(id, rate, T0 + 2, 400);
    expect(second).toMatchObject({ admitted: true, remaining: 200 });
    // 800 counted: 400 more do not fit, from this container or another (its probe), and nothing of them is counted.
    expect((await l.hit(id, rate, T0 + 3, 400)).admitted).toBe(false);
    const other = await limiter().hit(id, rate, T0 + 4, 400);
    expect(other.admitted).toBe(false);
    // Until the sliding window has let enough of the 800 go: later than for one more.
    expect(other.retryAfterSeconds).toBeGreaterThan(60);
    expect((await l.hit(id, rate, T0 + 5, 200)).admitted).toBe(true);
    expect((await l.hit(id, rate, T0 + 6)).admitted).toBe(false);
    // undo gives the whole cost back.
    await second.undo();
    expect((await limiter().hit(id, rate, T0 + 7, 400)).admitted).toBe(true);
    expect((await l.hit(id, rate, T0 + 8)).admitted).toBe(false);
  });

  // `cost` is the library's (RateLimiter is exported): a negative one was written as a negative count, and freed a full
  // key for everyone; one over the limit was refused with a Retry-After no wait ever made true.
  it.each([[-1000], [0], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [11]])(
    'refuses a cost of %s with a clear error, before counting anything',
    async (cost) => {
      const rate = { limit: 10, windowSeconds: 60 };
      const id = key();
      const l = limiter();
      for (let i = 0; i < 10; i++) expect((await l.hit(id, rate, T0 + i)).admitted).toBe(true);
      await expect(l.hit(id, rate, T0 + 20, cost)).rejects.toThrow(RangeError);
      await expect(limiter().hit(id, rate, T0 + 21, cost)).rejects.toThrow(RangeError);
      // Still full, from this container and another.
      expect((await l.hit(id, rate, T0 + 22)).admitted).toBe(false);
      expect((await limiter().hit(id, rate, T0 + 23)).admitted).toBe(false);
    },
  );
});
