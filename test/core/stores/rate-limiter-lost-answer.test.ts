import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbRateLimiter } from '../../../core/stores/dynamodb-rate-limiter.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000); // a window boundary
const MINUTE = 60_000;
let k = 0;
const key = () => `lost:${++k}`;
const isGiveBack = (input: Record<string, unknown>) => String(input.UpdateExpression).startsWith('SET c = c - ');
const isCount = (input: Record<string, unknown>) => !isGiveBack(input);

describe('a rate-limit counter write whose answer is lost on the way back (the SDK sends it again)', () => {
  const stores = storeForFaults();
  /** The client of the test's faulty limiter, for dropAnswers. */
  let client: DynamoDBClient;
  const faultyClient = () => (client = stores.client());
  const limiterOn = (c: DynamoDBClient) => new DynamoDbRateLimiter({ client: c, tableName: RATE_LIMITS_TABLE.localName });
  const honest = () => limiterOn(stores.local().client);

  it('a request that fits is admitted when the retry of its own count meets the limit (steady state)', async () => {
    const limiter = limiterOn(faultyClient());
    const id = key();
    const rate = { limit: 2, windowSeconds: 60 };
    expect((await limiter.hit(id, rate, T0 + 1_000)).admitted).toBe(true);
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: isCount });
    // Before: the retry found c = 2 (its own count) over "c <= 1": 429 for the second request of a limit of 2, counted all the same.
    expect((await limiter.hit(id, rate, T0 + 2_000)).admitted).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect((await honest().hit(id, rate, T0 + 3_000)).admitted).toBe(false);
  });

  it('the first request of a window is admitted when the retry of its own roll-over fails its condition', async () => {
    const id = key();
    const rate = { limit: 2, windowSeconds: 60 };
    expect((await honest().hit(id, rate, T0 + 1_000)).admitted).toBe(true);
    const limiter = limiterOn(faultyClient());
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: (input) => String(input.UpdateExpression).startsWith('SET p = c') });
    // One request of the last window still weighs 59/60: one more fits. Before: the retried roll-over failed, the probe after it
    // counted the request a second time, over the threshold: given back and refused.
    expect((await limiter.hit(id, rate, T0 + MINUTE + 1_000)).admitted).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect((await honest().hit(id, rate, T0 + MINUTE + 2_000)).admitted).toBe(false);
  });

  it("a key's first request is admitted when the retry of its own first write fails its condition (limit 1)", async () => {
    const limiter = limiterOn(faultyClient());
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: (input) => String(input.UpdateExpression).startsWith('SET p = :zero') });
    const id = key();
    const rate = { limit: 1, windowSeconds: 60 };
    // Before: 429, and the key counted full for the whole window although nothing was ever admitted.
    expect((await limiter.hit(id, rate, T0 + 1_000)).admitted).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect((await honest().hit(id, rate, T0 + 2_000)).admitted).toBe(false);
  });

  it("a container's first request of a window is admitted when the retry of its own count would succeed again", async () => {
    const id = key();
    const rate = { limit: 3, windowSeconds: 60 };
    expect((await honest().hit(id, rate, T0 + 1_000)).admitted).toBe(true);
    expect((await honest().hit(id, rate, T0 + MINUTE + 1_000)).admitted).toBe(true);
    const limiter = limiterOn(faultyClient());
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: isCount });
    // 1 of the last window weighs 58/60, 1 in this one: one more fits (threshold 2.03). Before: the permissive probe
    // ("c <= 2") counted it twice, 3 > 2.03, gave one back and refused it.
    expect((await limiter.hit(id, rate, T0 + MINUTE + 2_000)).admitted).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect((await honest().hit(id, rate, T0 + MINUTE + 3_000)).admitted).toBe(false);
  });

  it('a count given back once is given back once: the limit still holds', async () => {
    const limiter = limiterOn(faultyClient());
    const id = key();
    const rate = { limit: 2, windowSeconds: 60 };
    expect((await limiter.hit(id, rate, T0 + 1_000)).admitted).toBe(true);
    const second = await limiter.hit(id, rate, T0 + 2_000);
    expect(second.admitted).toBe(true);
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: isGiveBack });
    await second.undo();
    expect(fault.dropped()).toBe(1);
    // Before: the retried "c = c - 1" ran twice: two more were admitted, three in a window of two.
    const after = await Promise.all([0, 1, 2].map((i) => honest().hit(id, rate, T0 + 3_000 + i)));
    expect(after.filter((d) => d.admitted)).toHaveLength(1);
  });

  it('a count given back once is given back once, also when other requests are counted between its attempts', async () => {
    const limiter = limiterOn(faultyClient());
    const id = key();
    const rate = { limit: 3, windowSeconds: 60 };
    expect((await limiter.hit(id, rate, T0 + 1_000)).admitted).toBe(true);
    const second = await limiter.hit(id, rate, T0 + 2_000);
    expect(second.admitted).toBe(true);
    // A request timing out after its write landed leaves seconds for others: on a busy key, counts come between.
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: isGiveBack, between: () => honest().hit(id, rate, T0 + 2_500) });
    await second.undo();
    expect(fault.dropped()).toBe(1);
    // 1 + the one between = 2 counted: one more fits, not two.
    const after = await Promise.all([0, 1, 2].map((i) => honest().hit(id, rate, T0 + 3_000 + i)));
    expect(after.filter((d) => d.admitted)).toHaveLength(1);
  });

  it('never admits more than the limit when every count is sent twice (a lost answer over-counts, never under-counts)', async () => {
    const limiter = limiterOn(faultyClient());
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: isCount, times: 20 });
    const id = key();
    const rate = { limit: 5, windowSeconds: 60 };
    const decisions = [];
    for (let i = 0; i < 20; i++) decisions.push(await limiter.hit(id, rate, T0 + 1_000 + i));
    expect(fault.dropped()).toBeGreaterThan(0);
    const admitted = decisions.filter((d) => d.admitted).length;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(5);
  });
});
