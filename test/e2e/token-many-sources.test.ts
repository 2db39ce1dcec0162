import type { QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse } from '../helpers/sse.js';

/**
 * DynamoDB's IN takes at most 100 values ("Comparison operator and function reference"), and an expression string
 * at most 4 KB ("Constraints in Amazon DynamoDB", expression parameters); past either, a ValidationException, a 500 on
 * every list and stream of such a token. dynalite takes any length and any size, so the test reads the filter every
 * Query sends to it.
 */
const IN_VALUES_MAX = 100;
const EXPRESSION_MAX_BYTES = 4096;
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
    const events = await stream.waitFor(2);
    stream.close();
    expect(events.map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([a.id, b.id]);

    const list = await h.get('/deliveries', token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { deliveries: Array<{ id: string }> }).deliveries.map((d) => d.id)).toEqual([b.id, a.id]);

    expect(filters.length).toBeGreaterThan(0);
    for (const filter of filters) for (const count of operandsPerIn(filter)) expect(count).toBeLessThanOrEqual(IN_VALUES_MAX);
  });

  const summaries = async (res: Response): Promise<Array<{ source: string; id: string }>> => {
    expect(res.status).toBe(200);
    return ((await res.json()) as { deliveries: Array<{ source: string; id: string }> }).deliveries;
  };

  // The most `hookwarden token create` makes (TOKEN_SOURCES_MAX), and a token item with more, written otherwise (by
  // hand, or by a library caller): before, 586 sources made a filter over 4 KB, refused by DynamoDB on every read.
  it.each([500, 700])('a token of %i sources lists and streams its own sources only, every expression within 4 KB', async (count) => {
    filters.length = 0;
    const others = Array.from({ length: count - 1 }, (_, i) => `other-${i}`);
    const { token } = await h.token({ sources: [...others.slice(0, 300), 'billing', ...others.slice(300)] });
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    const outside = await h.deliver('default');
    const inside = await h.deliver('billing');
    expect([outside.status, inside.status]).toEqual([202, 202]);
    const events = await stream.waitFor(1);
    // One poll more: a delivery of `default` would have come by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    stream.close();
    expect(events.map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual([inside.id]);
    expect(stream.raw()).not.toContain(outside.id);

    const listed = await summaries(await h.get('/deliveries?limit=100', token));
    expect(listed.map((d) => d.id)).toContain(inside.id);
    expect(listed.every((d) => d.source === 'billing')).toBe(true);
    // Paged one by one, its cursors never reach another source's delivery either.
    const seen: string[] = [];
    let cursor: string | null = '';
    for (let page = 0; page < 10 && cursor !== null; page++) {
      const res = await h.get(`/deliveries?limit=1${cursor ? `&cursor=${cursor}` : ''}`, token);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { deliveries: Array<{ source: string; id: string }>; next: string | null };
      seen.push(...body.deliveries.map((d) => d.source));
      cursor = body.next;
    }
    expect(new Set(seen)).toEqual(new Set(['billing']));

    expect(filters.length).toBeGreaterThan(0);
    for (const filter of filters) {
      expect(Buffer.byteLength(filter, 'utf8')).toBeLessThanOrEqual(EXPRESSION_MAX_BYTES);
      for (const n of operandsPerIn(filter)) expect(n).toBeLessThanOrEqual(IN_VALUES_MAX);
    }
  });
});
