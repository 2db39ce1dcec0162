import { randomBytes } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_BUDGET_CHUNK } from '../../core/reader/read-budget.js';
import { BODY_PART_PREFIX } from '../../core/stores/body-parts.js';
import { RATE_LIMITS_KEYS, READER_LIMIT_KEYS } from '../../core/stores/tables.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';

/** What the harness's client wrote to read-budget counters (those that landed), and which body parts it read. */
const record = (client: DynamoDBClient): { budgetWrites: string[]; partReads: string[] } => {
  const recorded = { budgetWrites: [] as string[], partReads: [] as string[] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: { pk?: AttributeValue } }).Key?.pk?.S ?? '';
      if (context.commandName === 'GetItemCommand' && key.startsWith(BODY_PART_PREFIX)) recorded.partReads.push(key);
      const answer = await next(args);
      if (context.commandName === 'UpdateItemCommand' && key.startsWith(`${RATE_LIMITS_KEYS.counterPrefix}${READER_LIMIT_KEYS.read}`))
        recorded.budgetWrites.push(key);
      return answer;
    },
    { step: 'initialize', name: 'recordBudget' },
  );
  return recorded;
};

/** Reads a response whole; its status, headers and error code (if any). */
const answer = async (res: Response) => {
  const body = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, headers: res.headers, code: body.error?.code };
};

/**
 * `GET /deliveries/{source}/{id}` was bounded by the per-token request limit only (600 a minute by default), each a
 * consistent read of an item up to 400 KB, and of a large body's parts besides: it now draws on the token's read
 * budget (HOOKWARDEN_READ_BUDGET) as a list does, over real HTTP and dynalite. A day's window: no test straddles two.
 */
describe('the read budget charges a single delivery read', () => {
  let h: ReaderHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('ends repeated GETs in 429 (Retry-After, policy "reads"), charges no refused request, and leaves another token alone', async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 103, windowSeconds: 86_400 } } });
    const harness = h;
    const delivered = await harness.deliver('default');
    const billing = await harness.deliver('billing');
    expect([delivered.status, billing.status]).toEqual([202, 202]);
    const reader = await harness.token();
    const other = await harness.token();
    const scoped = await harness.token({ sources: ['billing'] });
    const path = `/deliveries/default/${delivered.id}`;

    // Refused before any read: not charged. A scoped token's requests for another source's delivery (403), and
    // paths no delivery can have (404 before the store is asked).
    for (let i = 0; i < 3; i++) expect((await answer(await harness.get(path, scoped.token))).status).toBe(403);
    for (const refused of [`/deliveries/default/${'x'.repeat(1025)}`, `/deliveries/Not_A_Source/${delivered.id}`])
      for (let i = 0; i < 3; i++) expect((await answer(await harness.get(refused, reader.token))).status).toBe(404);

    // A record is charged the most an item can cost (100 read units, 400 KB) before it is read, and the 99 it did not
    // cost are handed back: one unit each. Four within 103; the fifth finds 99 held, less than the 100 it must be charged.
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push(await answer(await harness.get(path, reader.token)));
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    const spent = reads[4];
    expect(spent?.code).toBe('rate_limited');
    expect(Number(spent?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(spent?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(spent?.headers.get('ratelimit-policy')).toBe('"reads";q=103;w=86400');
    expect((await answer(await harness.get(path, reader.token))).status).toBe(429);

    // The scoped token's refusals cost it nothing: its four reads of its own source's delivery are all answered.
    const scopedReads = [];
    for (let i = 0; i < 5; i++)
      scopedReads.push((await answer(await harness.get(`/deliveries/billing/${billing.id}`, scoped.token))).status);
    expect(scopedReads).toEqual([200, 200, 200, 200, 429]);

    // Another token's budget is its own.
    expect((await answer(await harness.get(path, other.token))).status).toBe(200);
  });

  // Counted in items, a read of this delivery was 3 (its record and two parts) for 112 read units: a budget of 1,000
  // admitted 333 such reads a day, some 37,000 units. Now each read is charged by its size, one unit per 4 KB.
  it('charges a large body one unit per 4 KB: a budget of 1,000 admits eight reads of a 112-unit delivery, not 333', async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 1_000, windowSeconds: 86_400 } } });
    const harness = h;
    const recorded = record(harness.client);
    // About 600 KB of base64 in JSON: 452,000 bytes gzipped, so two part items: 380,000 bytes (93 units) and 72,000 (18).
    const large = await harness.deliver(
      'default',
      JSON.stringify({ type: 'file.uploaded', data: randomBytes(450_000).toString('base64') }),
    );
    expect(large.status).toBe(202);
    const { token, id } = await harness.token();

    const reads = [];
    for (let i = 0; i < 9; i++) reads.push(await answer(await harness.get(`/deliveries/default/${large.id}`, token)));
    // Each read: the record charged 100 (it cost 1), its parts 186 (93 each, at most: they cost 111), the rest handed
    // back. Eight reads are 896 units of 1,000; the ninth has its record read and its parts refused before they are read.
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    const spent = reads[8];
    expect(spent?.code).toBe('rate_limited');
    expect(Number(spent?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(spent?.headers.get('ratelimit-policy')).toBe('"reads";q=1000;w=86400');
    expect(recorded.partReads).toHaveLength(16);
    // Two charges of 500: what the token was charged, all it read.
    expect(recorded.budgetWrites).toEqual(
      Array.from({ length: 2 }, () => `${RATE_LIMITS_KEYS.counterPrefix}${READER_LIMIT_KEYS.read}${id}`),
    );
    expect((await answer(await harness.get(`/deliveries/default/${large.id}`, token))).status).toBe(429);
    expect(recorded.partReads).toHaveLength(16);
  }, 60_000);

  // A budget below what one read can cost still reads it, once a window: its reads together are charged the whole limit.
  it('reads a delivery larger than the whole budget once a window, not never', async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 50, windowSeconds: 86_400 } } });
    const harness = h;
    const large = await harness.deliver(
      'default',
      JSON.stringify({ type: 'file.uploaded', data: randomBytes(450_000).toString('base64') }),
    );
    const { token } = await harness.token();
    const reads = [];
    for (let i = 0; i < 2; i++) reads.push((await answer(await harness.get(`/deliveries/default/${large.id}`, token))).status);
    expect(reads).toEqual([200, 429]);
  }, 60_000);

  // Its record's 500-unit chunk held, its parts' 558 needed a second chunk that did not fit 800: refused for ever.
  it('reads a body of six parts under a budget of 800, charging its parts exactly what the record left missing', async () => {
    h = await startReaderHarness({
      settings: { readBudget: { limit: 800, windowSeconds: 86_400 } },
      env: {
        HOOKWARDEN_CONFIG_JSON: JSON.stringify({ sources: [{ name: 'default', secretEnv: 'TEST_SECRET', maxBodyBytes: 3 * 1024 * 1024 }] }),
      },
    });
    const harness = h;
    const recorded = record(harness.client);
    // About 2.0 MB gzipped (2.7 MB of base64): six parts (558 units at most, some 495 read).
    const large = await harness.deliver('default', JSON.stringify({ data: randomBytes(2_000_000).toString('base64') }));
    expect(large.status).toBe(202);
    const { token } = await harness.token();
    const reads = [];
    for (let i = 0; i < 2; i++) reads.push((await answer(await harness.get(`/deliveries/default/${large.id}`, token))).status);
    expect(reads).toEqual([200, 429]);
    expect(recorded.partReads).toHaveLength(6);
    // 500, then the 59 the parts lacked; the second read's 500 refused.
    expect(recorded.budgetWrites).toHaveLength(2);
  }, 60_000);

  it(`writes the counter once per ${READ_BUDGET_CHUNK} units charged, not once per read`, async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 100_000, windowSeconds: 86_400 } } });
    const harness = h;
    const recorded = record(harness.client);
    const delivered = await harness.deliver('default');
    const { token, id } = await harness.token();
    for (let i = 0; i < 30; i++) expect((await answer(await harness.get(`/deliveries/default/${delivered.id}`, token))).status).toBe(200);
    // 30 units (a small record each, charged 100 and 99 handed back), one 500-unit charge.
    expect(recorded.budgetWrites).toEqual([`${RATE_LIMITS_KEYS.counterPrefix}${READER_LIMIT_KEYS.read}${id}`]);
  });
});
