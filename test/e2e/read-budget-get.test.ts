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
    h = await startReaderHarness({ settings: { readBudget: { limit: 4, windowSeconds: 86_400 } } });
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

    // One item each (the record): four within the budget, the fifth over it.
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push(await answer(await harness.get(path, reader.token)));
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    const spent = reads[4];
    expect(spent?.code).toBe('rate_limited');
    expect(Number(spent?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(spent?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(spent?.headers.get('ratelimit-policy')).toBe('"reads";q=4;w=86400');
    expect((await answer(await harness.get(path, reader.token))).status).toBe(429);

    // The scoped token's refusals cost it nothing: its four reads of its own source's delivery are all answered.
    const scopedReads = [];
    for (let i = 0; i < 5; i++)
      scopedReads.push((await answer(await harness.get(`/deliveries/billing/${billing.id}`, scoped.token))).status);
    expect(scopedReads).toEqual([200, 200, 200, 200, 429]);

    // Another token's budget is its own.
    expect((await answer(await harness.get(path, other.token))).status).toBe(200);
  });

  it("charges a large body's parts before reading them: its second read is over a budget that admits five small ones", async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 5, windowSeconds: 86_400 } } });
    const harness = h;
    const recorded = record(harness.client);
    // About 600 KB of base64 in JSON: more than 380,000 bytes gzipped, so two part items.
    const large = await harness.deliver(
      'default',
      JSON.stringify({ type: 'file.uploaded', data: randomBytes(450_000).toString('base64') }),
    );
    const small = await harness.deliver('default');
    expect([large.status, small.status]).toEqual([202, 202]);
    const first = await harness.token();
    const second = await harness.token();

    const largeReads = [];
    for (let i = 0; i < 2; i++) largeReads.push(await answer(await harness.get(`/deliveries/default/${large.id}`, first.token)));
    // The record and two parts (3 items) of 5; then the record (4) and no room for the parts: refused before them.
    expect(largeReads.map((r) => r.status)).toEqual([200, 429]);
    expect(largeReads[1]?.headers.get('ratelimit-policy')).toBe('"reads";q=5;w=86400');
    expect(recorded.partReads).toHaveLength(2);

    const smallReads = [];
    for (let i = 0; i < 6; i++) smallReads.push((await answer(await harness.get(`/deliveries/default/${small.id}`, second.token))).status);
    expect(smallReads).toEqual([200, 200, 200, 200, 200, 429]);
  }, 60_000);

  it(`writes the counter once per ${READ_BUDGET_CHUNK} items charged, not once per read`, async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 100_000, windowSeconds: 86_400 } } });
    const harness = h;
    const recorded = record(harness.client);
    const delivered = await harness.deliver('default');
    const { token, id } = await harness.token();
    for (let i = 0; i < 30; i++) expect((await answer(await harness.get(`/deliveries/default/${delivered.id}`, token))).status).toBe(200);
    // 30 items, one 500-item charge.
    expect(recorded.budgetWrites).toEqual([`${RATE_LIMITS_KEYS.counterPrefix}${READER_LIMIT_KEYS.read}${id}`]);
  });
});
