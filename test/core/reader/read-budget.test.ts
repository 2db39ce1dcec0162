import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadBudget, ReadBudgetSpentError } from '../../../core/reader/read-budget.js';
import { DynamoDbRateLimiter } from '../../../core/stores/dynamodb-rate-limiter.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { countCalls } from '../../helpers/harness.js';

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000) + 1_000;
let n = 0;
const tokenId = () => `budget${++n}`;

describe('ReadBudget on the DynamoDB rate limiter (dynalite)', () => {
  let local: LocalStore;
  let calls: ReturnType<typeof countCalls>;
  beforeAll(async () => {
    local = await startLocalStore();
    calls = countCalls(local.client);
  });
  afterAll(() => local.close());
  /** A container's budget: its own limiter and memory, the shared table. */
  const container = (rate: { limit: number; windowSeconds: number }, now: () => number) =>
    new ReadBudget({ limiter: new DynamoDbRateLimiter({ client: local.client, tableName: RATE_LIMITS_TABLE.localName }), rate, now });

  it('a stream following live (one item a read) costs one counter write per 500 items, not one per read', async () => {
    const budget = container({ limit: 300_000, windowSeconds: 60 }, () => T0).forToken(tokenId());
    const start = calls.count();
    for (let i = 0; i < 1_000; i++) {
      expect(await budget.take(500)).toBeGreaterThanOrEqual(1);
      budget.giveBack(499);
    }
    // Three charges of 500 (each when less than a page is held): the first of a new key tries the window's roll-overs
    // (three writes), the others are one each. Before, no budget; counted per read it would be a thousand writes.
    const writes = calls.names.slice(start);
    expect(writes.every((name) => name === 'UpdateItemCommand')).toBe(true);
    expect(writes.length).toBeLessThanOrEqual(5);
  });

  it('is shared by every container: what one charged another cannot read, and the next read is refused with Retry-After', async () => {
    const id = tokenId();
    const rate = { limit: 1_000, windowSeconds: 60 };
    const a = container(rate, () => T0).forToken(id);
    const b = container(rate, () => T0 + 10).forToken(id);
    expect(await a.take(500)).toBe(500);
    expect(await b.take(500)).toBe(500);
    const refused = await a.take(500).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ReadBudgetSpentError);
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect((refused as ReadBudgetSpentError).retryAfterSeconds).toBeGreaterThan(0);
    expect((refused as ReadBudgetSpentError).headers['RateLimit-Policy']).toBe('"reads";q=1000;w=60');
    // Another token's budget is its own.
    expect(
      await container(rate, () => T0)
        .forToken(tokenId())
        .take(500),
    ).toBe(500);
  });

  it('grants what is left when less than wanted is, and what a container held unread lapses after a window', async () => {
    let clock = T0;
    const id = tokenId();
    const budget = container({ limit: 700, windowSeconds: 60 }, () => clock).forToken(id);
    expect(await budget.take(1)).toBe(1); // 500 charged, 499 held
    expect(await budget.take(500)).toBe(499); // 500 more do not fit in 700: what is held
    await expect(budget.take(1)).rejects.toBeInstanceOf(ReadBudgetSpentError);
    budget.giveBack(300);
    expect(await budget.take(500)).toBe(300);
    // Two windows on, the counter is empty again; nothing held from before is granted without a new charge.
    budget.giveBack(200);
    clock += 120_000;
    const start = calls.count();
    expect(await budget.take(600)).toBe(600);
    expect(calls.count() - start).toBeGreaterThan(0);
  });

  // A single delivery's record or a large body's parts are read whole or not at all: a partial grant would read less
  // than it was charged for, or more than it paid.
  // Each read charged a chunk of its own when it found too little held: 40 GETs of one token sent at once to a fresh
  // container charged 40 chunks of 500, and under a budget of 3,000 all but six were refused, for 40 items read.
  it('reads of one token that arrive together in a container share one charge rather than each charging a chunk', async () => {
    const rate = { limit: 3_000, windowSeconds: 60 };
    const start = calls.count();
    const whole = container(rate, () => T0).forToken(tokenId());
    await Promise.all(Array.from({ length: 40 }, () => whole.takeWhole(1)));
    // One charge: a new key's first tries the window's roll-overs (three writes at most).
    expect(calls.names.slice(start).length).toBeLessThanOrEqual(3);

    // Lists asking 100 each: every one is granted its 100, in six charges of 500, the budget exactly; the 31st is refused.
    const lists = container(rate, () => T0).forToken(tokenId());
    const granted = await Promise.all(Array.from({ length: 30 }, () => lists.take(100)));
    expect(granted).toEqual(Array.from({ length: 30 }, () => 100));
    await expect(lists.take(100)).rejects.toBeInstanceOf(ReadBudgetSpentError);
  });

  it('takeWhole charges all it is asked or refuses, keeping what is held, and caps a read over the whole limit at it', async () => {
    const id = tokenId();
    const budget = container({ limit: 700, windowSeconds: 60 }, () => T0).forToken(id);
    await budget.takeWhole(1); // 500 charged, 499 held
    await budget.takeWhole(495); // 4 held
    const refused = await budget.takeWhole(5).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ReadBudgetSpentError);
    expect((refused as ReadBudgetSpentError).headers['RateLimit-Policy']).toBe('"reads";q=700;w=60');
    // The 4 held were not handed out by the refusal.
    expect(await budget.take(10)).toBe(4);

    // A budget of 3 a window and a read of 29 items: charged as the whole window once, then refused within it.
    const small = container({ limit: 3, windowSeconds: 60 }, () => T0).forToken(tokenId());
    await small.takeWhole(29);
    await expect(small.takeWhole(1)).rejects.toBeInstanceOf(ReadBudgetSpentError);
  });
});
