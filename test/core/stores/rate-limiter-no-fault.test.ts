import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { DynamoDbRateLimiter } from '../../../core/stores/dynamodb-rate-limiter.js';
import { RATE_LIMITS_KEYS, RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000); // a window boundary
let k = 0;
const key = () => `nofault:${++k}`;

/**
 * The lost-answer changes (`t`, `g`, `NOT t = :t`, the read after a retried failure) are on
 * every request's path: without a fault, admission must be what it was, exact at the limit.
 */
describe('the rate limiter without faults, after the lost-answer changes', () => {
  let local: LocalStore;
  let patient: DynamoDBClient;
  beforeAll(async () => {
    local = await startLocalStore();
    patient = createDynamoDbClient({ endpoint: local.endpoint, region: 'local', connectionTimeoutMs: 15_000, requestTimeoutMs: 15_000 });
  });
  afterAll(async () => {
    patient.destroy();
    await local.close();
  });
  const limiter = () => new DynamoDbRateLimiter({ client: patient, tableName: RATE_LIMITS_TABLE.localName });

  it.each([1, 2, 5])('admits exactly %i in a row on a new key, from a new container each time and from one warm one', async (limit) => {
    const rate = { limit, windowSeconds: 60 };
    const cold = key();
    const coldDecisions = [];
    for (let i = 0; i < limit + 3; i++) coldDecisions.push((await limiter().hit(cold, rate, T0 + 1_000 + i)).admitted);
    expect(coldDecisions.filter(Boolean)).toHaveLength(limit);
    expect(coldDecisions.slice(0, limit).every(Boolean)).toBe(true);
    const warm = key();
    const l = limiter();
    const warmDecisions = [];
    for (let i = 0; i < limit + 3; i++) warmDecisions.push((await l.hit(warm, rate, T0 + 1_000 + i)).admitted);
    expect(warmDecisions).toEqual(coldDecisions);
  });

  it('counts on an item written before t and g existed (a deployment over live counters)', async () => {
    const id = key();
    const index = T0 / 60_000;
    await patient.send(
      new PutItemCommand({
        TableName: RATE_LIMITS_TABLE.localName,
        Item: {
          pk: { S: `${RATE_LIMITS_KEYS.counterPrefix}${id}` },
          w: { N: String(index) },
          c: { N: '2' },
          p: { N: '0' },
          expiresAt: { N: String(T0 / 1000 + 600) },
        },
      }),
    );
    const rate = { limit: 4, windowSeconds: 60 };
    const first = await limiter().hit(id, rate, T0 + 1_000);
    expect(first.admitted).toBe(true);
    // A give-back on an item with no g applies.
    await first.undo();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push((await limiter().hit(id, rate, T0 + 2_000 + i)).admitted);
    expect(decisions).toEqual([true, true, false, false]);
  });

  it('admits exactly the limit from four containers hitting one key at once, then the weighted share after the roll-over', async () => {
    const id = key();
    const rate = { limit: 20, windowSeconds: 60 };
    const containers = [limiter(), limiter(), limiter(), limiter()];
    const hits = (at: number) => Promise.all(containers.flatMap((l) => Array.from({ length: 15 }, () => l.hit(id, rate, at))));
    expect((await hits(T0 + 1_000)).filter((d) => d.admitted)).toHaveLength(20);
    // Half-way through the next window: 20 − 20 × 0.5 = 10 fit, rolled over by one of 60 racing writes.
    expect((await hits(T0 + 90_000)).filter((d) => d.admitted)).toHaveLength(10);
  });

  it('gives back exactly what undo names, also when many undos run at once', async () => {
    const id = key();
    const rate = { limit: 10, windowSeconds: 60 };
    const l = limiter();
    const admitted = await Promise.all(Array.from({ length: 10 }, () => l.hit(id, rate, T0 + 1_000)));
    expect(admitted.every((d) => d.admitted)).toBe(true);
    await Promise.all(admitted.slice(0, 6).map((d) => d.undo()));
    const again = await Promise.all(Array.from({ length: 10 }, () => limiter().hit(id, rate, T0 + 2_000)));
    expect(again.filter((d) => d.admitted)).toHaveLength(6);
  });
});
