import type { QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse } from '../helpers/sse.js';

/**
 * DynamoDB's IN takes at most 100 values ("Comparison operator and function reference"); a longer list is a
 * ValidationException, a 500 on every list and stream of such a token. dynalite takes any length, so the test reads
 * the filter every Query sends to it.
 */
const IN_VALUES_MAX = 100;
describe('a read token scoped to more sources than one DynamoDB IN takes', () => {
  let h: ReaderHarness;
  const filters: string[] = [];

  beforeAll(async () => {
    h = await startReaderHarness();
    h.client.middlewareStack.add(
      (next) => async (args) => {
        const input = (args as { input: QueryCommandInput }).input;
        if (input.FilterExpression !== undefined && input.IndexName !== undefined) filters.push(input.FilterExpression);
        return next(args);
      },
      { step: 'initialize', name: 'readQueryFilters' },
    );
  });
  afterAll(() => h.close());

  const operandsPerIn = (filter: string): number[] =>
    [...filter.matchAll(/IN \(([^)]*)\)/g)].map((match) => (match[1] as string).split(',').length);

  it('lists and streams its sources, each IN of every Query within the limit', async () => {
    const others = Array.from({ length: 2 * IN_VALUES_MAX + 10 }, (_, i) => `other-${i}`);
    const { token } = await h.token({ sources: [...others.slice(0, 150), 'billing', ...others.slice(150), 'default'] });
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    const a = await h.deliver('billing');
    const b = await h.deliver('default');
    expect([a.status, b.status]).toEqual([202, 202]);
    const events = await stream.waitFor(2, 5_000);
    stream.close();
    expect(events.map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([a.id, b.id]);

    const list = await h.get('/deliveries', token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { deliveries: Array<{ id: string }> }).deliveries.map((d) => d.id)).toEqual([b.id, a.id]);

    expect(filters.length).toBeGreaterThan(0);
    for (const filter of filters) for (const count of operandsPerIn(filter)) expect(count).toBeLessThanOrEqual(IN_VALUES_MAX);
  });
});
