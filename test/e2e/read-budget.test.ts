import { BatchWriteItemCommand, ConditionalCheckFailedException, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { READ_BUDGET_CHUNK } from '../../core/reader/read-budget.js';
import { decodeStreamId, encodeStreamId, openingAt } from '../../core/reader/stream-position.js';
import { decodeCursor, encodeCursor, FEED, seqCeiling, seqOf } from '../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { RATE_LIMITS_KEYS, READER_LIMIT_KEYS } from '../../core/stores/tables.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { claimStored } from '../helpers/stored-delivery.js';

/** What the harness's client asked of the index and of the read budget's counters. */
interface Recorded {
  /** Each Query: whether it named sources (a scoped token's), its Limit and the items DynamoDB read. */
  readonly queries: { scoped: boolean; limit: number; scanned: number }[];
  /**
   * Writes to read-budget counters: whether the condition refused it, and whether it gave a count back (an
   * over-admission found after the write, which a count's first write in a window can make when many race).
   */
  readonly budgetWrites: { key: string; refused: boolean; givesBack: boolean }[];
}

const record = (client: DynamoDBClient): Recorded => {
  const recorded: Recorded = { queries: [], budgetWrites: [] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        ExpressionAttributeValues?: Record<string, unknown>;
        Limit?: number;
        Key?: { pk?: { S?: string } };
        UpdateExpression?: string;
      };
      if (context.commandName === 'QueryCommand') {
        const answer = await next(args);
        recorded.queries.push({
          scoped: input.ExpressionAttributeValues?.[':s0'] !== undefined,
          limit: input.Limit ?? 0,
          scanned: (answer.output as { ScannedCount?: number }).ScannedCount ?? 0,
        });
        return answer;
      }
      if (
        context.commandName !== 'UpdateItemCommand' ||
        !input.Key?.pk?.S?.startsWith(`${RATE_LIMITS_KEYS.counterPrefix}${READER_LIMIT_KEYS.read}`)
      )
        return next(args);
      const givesBack = input.UpdateExpression?.startsWith('SET c = c - ') === true;
      const key = input.Key.pk.S;
      try {
        const answer = await next(args);
        recorded.budgetWrites.push({ key, refused: false, givesBack });
        return answer;
      } catch (error) {
        recorded.budgetWrites.push({ key, refused: error instanceof ConditionalCheckFailedException, givesBack });
        throw error;
      }
    },
    { step: 'initialize', name: 'recordReads' },
  );
  return recorded;
};

/** Stores `count` deliveries of `default`, fifty at a time; resolves to their ids. */
const storeMany = async (h: ReaderHarness, prefix: string, count: number): Promise<string[]> => {
  const store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries });
  const ids: string[] = [];
  for (let at = 0; at < count; at += 50) {
    const batch = Array.from({ length: Math.min(50, count - at) }, (_, i) => `${prefix}_${at + i}`);
    await Promise.all(batch.map((id) => claimStored(store, id)));
    ids.push(...batch);
  }
  return ids;
};

/** A resume position far behind everything stored: the stream catches up from there, page after page. */
const farBack = (): string => encodeStreamId(openingAt(seqCeiling(Date.now() - 3_600_000)));

describe('the per-token read budget (HOOKWARDEN_READ_BUDGET), over real HTTP and dynalite', () => {
  let h: ReaderHarness | undefined;
  const streams: SseClient[] = [];
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await h?.close();
    h = undefined;
  });
  afterAll(async () => h?.close());

  it("bounds what one token's 30 catching-up streams and its lists read, while another token's live stream gets its deliveries", async () => {
    // A day's window: the test never straddles two, so the bound is the budget itself.
    const budget = 3_000;
    h = await startReaderHarness({
      settings: { readBudget: { limit: budget, windowSeconds: 86_400 } },
      client: { requestTimeoutMs: 15_000, connectionTimeoutMs: 15_000 },
    });
    const recorded = record(h.client);
    await storeMany(h, 'backlog', 2_000);
    const flood = await h.token();
    const live = await h.token({ sources: ['billing'] });

    // The second consumer follows billing live (its reads name its source: scoped).
    const follower = await openSse(`${h.url}/events`, { authorization: `Bearer ${live.token}` });
    streams.push(follower);
    expect(follower.status).toBe(200);

    // The first token opens every stream it may, each catching up from an hour back, and lists as fast as it can.
    const opened: SseClient[] = [];
    const refusedOpens: SseClient[] = [];
    for (let i = 0; i < 30; i++) {
      const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${flood.token}`, 'last-event-id': farBack() });
      streams.push(stream);
      (stream.status === 200 ? opened : refusedOpens).push(stream);
    }
    const lists: Response[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await h.get('/deliveries?limit=100', flood.token);
      await res.arrayBuffer();
      lists.push(res);
    }
    const ended = new Set<SseClient>();
    for (const stream of opened) void stream.ended.then(() => ended.add(stream));

    // The second token's deliveries reach it, however much the first one asked for.
    for (let i = 0; i < 3; i++) expect((await h.deliver('billing')).status).toBe(202);
    const got = await follower.waitFor(3, 30_000);
    expect(got).toHaveLength(3);

    // Everything the first token made the index read, its streams and its lists together, is within its budget
    // (before: 30 streams read the 2,000 deliveries, and their window again and again, some hundred thousand items).
    const floodRead = recorded.queries.filter((q) => !q.scoped).reduce((sum, q) => sum + q.scanned, 0);
    expect(floodRead).toBeLessThanOrEqual(budget);
    expect(recorded.queries.filter((q) => !q.scoped).every((q) => q.limit <= 500)).toBe(true);
    // The streams opened before the budget ran out stay open (they wait; none is cut)...
    expect(opened.length).toBeGreaterThan(0);
    expect(ended.size).toBe(0);
    // ...later ones and the lists over it are 429 with Retry-After under the policy "reads".
    expect(refusedOpens.length).toBeGreaterThan(0);
    for (const stream of refusedOpens) {
      expect(stream.status).toBe(429);
      expect(Number(stream.headers['retry-after'])).toBeGreaterThan(0);
      expect(stream.headers['ratelimit-policy']).toMatch(/^"reads";q=3000;w=86400$/);
    }
    const refusedLists = lists.filter((res) => res.status === 429);
    expect(refusedLists.length).toBeGreaterThan(0);
    expect(lists.every((res) => res.status === 200 || res.status === 429)).toBe(true);
    expect(refusedLists[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refusedLists[0]?.headers.get('ratelimit-policy')).toBe('"reads";q=3000;w=86400');
    // Counting costs a counter write per 500 items charged (and the refused ones), not one per read. A charge the
    // limiter admitted and then gave back (30 streams racing a window's first write; how many depends on timing) is a
    // write and its give-back: what the first token is charged, net, is at most its budget in 500-item charges. (Only
    // its own counter: the live token's stream charges its own, two or three times depending on how its polls interleave.)
    const floodQueries = recorded.queries.filter((q) => !q.scoped).length;
    const landed = recorded.budgetWrites.filter(
      (w) => !w.refused && w.key === `${RATE_LIMITS_KEYS.counterPrefix}${READER_LIMIT_KEYS.read}${flood.id}`,
    );
    const charges = landed.filter((w) => !w.givesBack).length - landed.filter((w) => w.givesBack).length;
    expect(charges).toBeGreaterThan(0);
    expect(charges).toBeLessThanOrEqual(budget / READ_BUDGET_CHUNK);
    expect(floodQueries).toBeGreaterThan(0);
  }, 120_000);

  it('slows a catching-up stream down rather than cutting it: every delivery still arrives once, in order', async () => {
    h = await startReaderHarness({
      settings: { readBudget: { limit: 700, windowSeconds: 1 } },
      client: { requestTimeoutMs: 15_000, connectionTimeoutMs: 15_000 },
    });
    const recorded = record(h.client);
    const stored = await storeMany(h, 'catchup', 1_500);
    const { token } = await h.token();
    const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}`, 'last-event-id': farBack() });
    streams.push(stream);
    expect(stream.status).toBe(200);
    const events = await stream.waitFor(stored.length, 90_000);
    const sent = events.map((event) => JSON.parse(event.data) as { id: string; receivedAt: string });
    expect(new Set(sent.map((d) => d.id))).toEqual(new Set(stored));
    expect(sent).toHaveLength(stored.length);
    // In the order they were stored (the index's), which is the order of the positions the events name: each was
    // stored before the stream opened, so none became visible late. Not `receivedAt`: stored 50 at a time, a
    // delivery's receipt and its index key are a millisecond apart under load, in either order.
    const positions = events.map((event) => decodeStreamId(event.id as string)?.position ?? '');
    expect(positions.every((p, i) => p !== '' && (i === 0 || p > (positions[i - 1] as string)))).toBe(true);
    // It did run into its budget on the way (the counter refused it), and waited rather than ended.
    expect(recorded.budgetWrites.some((w) => w.refused)).toBe(true);
    let ended = false;
    void stream.ended.then(() => (ended = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
  }, 120_000);

  // A cursor is not sealed: the key of another source's delivery tells a token scoped away from it that source's
  // delivery ids. A list held by the budget to 3 items among billing's deliveries of the cursor's millisecond handed
  // out the key it stopped at.
  it("a scoped token's list the budget holds to a few items never gets another source's delivery in its cursor", async () => {
    h = await startReaderHarness({ settings: { readBudget: { limit: 3, windowSeconds: 86_400 } } });
    const at = Date.now() - 10_000;
    const item = (source: string, id: string): Record<string, AttributeValue> => ({
      pk: { S: `${source}#${id}` },
      source: { S: source },
      deliveryId: { S: id },
      receivedAt: { N: String(at) },
      expiresAt: { N: String(Math.floor(at / 1000) + 3600) },
      bodyBytes: { N: '2' },
      status: { S: 'stored' },
      feed: { S: FEED },
      seq: { S: seqOf(at, source, id) },
    });
    const items = [item('default', 'newer'), ...[1, 2, 3].map((i) => item('billing', `secret_${i}`))];
    await h.client.send(
      new BatchWriteItemCommand({ RequestItems: { [h.config.tables.deliveries]: items.map((Item) => ({ PutRequest: { Item } })) } }),
    );
    const scoped = await h.token({ sources: ['default'] });
    const res = await h.get(`/deliveries?limit=1&cursor=${encodeCursor(seqOf(at, 'default', 'newer'))}`, scoped.token);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { deliveries: unknown[]; next: string | null };
    expect(page.deliveries).toEqual([]);
    if (page.next !== null) expect(decodeCursor(page.next)).not.toMatch(/billing|secret/);
    // Its own cursor back: the same page, read on once the budget grants more; nothing passed over.
    expect(page.next).toBe(encodeCursor(seqOf(at, 'default', 'newer')));
  });
});
