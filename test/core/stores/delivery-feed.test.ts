import { BatchWriteItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamId, encodeStreamId } from '../../../core/reader/stream-position.js';
import {
  boundWithin,
  decodeCursor,
  DynamoDbDeliveryFeed,
  encodeCursor,
  FEED,
  parseSeq,
  seqFloor,
  seqOf,
} from '../../../core/stores/delivery-feed.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

describe('cursors', () => {
  it('round-trip a sort key and refuse anything else', () => {
    const seq = seqOf(1_764_000_000_123, 'stripe', 'evt_1#with#hashes');
    expect(decodeCursor(encodeCursor(seq))).toBe(seq);
  });

  it.each([
    [''],
    ['!!!'],
    [encodeCursor('not a key')],
    [encodeCursor('123#stripe#x')],
    [encodeCursor('1764000000123#Stripe#x')],
    [`${encodeCursor('1764000000123#stripe#x')}=`],
    [Buffer.from([0x31, 0xff]).toString('base64url')],
    ['A'.repeat(5000)],
  ])('refuses %j', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

/**
 * An item whose `seq` is no sort key this version writes (edited by hand, written otherwise) can be where a read stops.
 * The bound handed out for it was the key itself, which decodeCursor and decodeStreamId refuse: the consumer's next page
 * or resume was a 400, for good. Now a millisecond bound next to it, one the API takes, that passes over no sort key on
 * the side still to read.
 */
describe('the bound for a read cut at a key that is not a sort key', () => {
  const ms = fc.integer({ min: 0, max: 9_999_999_999_999 });
  const validKey = fc
    .tuple(ms, fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/), fc.string({ minLength: 1, maxLength: 8 }))
    .map(([at, source, id]) => seqOf(at, source, id));
  /** Near-misses of a sort key, and anything else. */
  const malformed = fc
    .oneof(
      fc.string({ maxLength: 30 }),
      ms.map((at) => String(at).padStart(13, '0')),
      fc.tuple(ms, fc.string({ maxLength: 12 })).map(([at, rest]) => `${String(at).padStart(13, '0')}${rest}`),
      fc.tuple(ms, fc.string({ maxLength: 12 })).map(([at, rest]) => `${String(at).padStart(13, '0')}#${rest}`),
      fc.tuple(ms, fc.string({ maxLength: 12 })).map(([at, rest]) => `${at}#${rest}`),
    )
    .filter((seq) => seq.length > 0 && parseSeq(seq) === undefined);

  it('reading down: a cursor the list takes, above every sort key below the cut (or none, when none can be)', () => {
    fc.assert(
      fc.property(malformed, fc.array(validKey, { maxLength: 20 }), (cut, keys) => {
        const bound = boundWithin(cut, ['stripe'], 'down');
        if (bound === undefined) return keys.every((key) => key > cut);
        expect(decodeCursor(encodeCursor(bound))).toBe(bound);
        for (const key of keys) if (key < cut) expect(key < bound).toBe(true);
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('reading up: a position a stream id takes, below every sort key above the cut (or none, when none can be)', () => {
    fc.assert(
      fc.property(malformed, fc.array(validKey, { maxLength: 20 }), (cut, keys) => {
        const bound = boundWithin(cut, ['stripe'], 'up');
        if (bound === undefined) return keys.every((key) => key < cut);
        const id = encodeStreamId({ lower: bound, position: bound, sent: { count: 0, sums: Array.from({ length: 8 }, () => 0n) } });
        expect(decodeStreamId(id)?.position).toBe(bound);
        for (const key of keys) if (key > cut) expect(key > bound).toBe(true);
        return true;
      }),
      { numRuns: 500 },
    );
  });
});

/** A delivery record as the store writes it with its index keys, expiring ten minutes after `nowSeconds`. */
const indexItem = (
  nowSeconds: number,
  ms: number,
  source: string,
  id: string,
  seq = seqOf(ms, source, id),
): Record<string, AttributeValue> => ({
  pk: { S: `${source}#${id}` },
  source: { S: source },
  deliveryId: { S: id },
  receivedAt: { N: String(ms) },
  expiresAt: { N: String(nowSeconds + 600) },
  bodyBytes: { N: '2' },
  feed: { S: FEED },
  seq: { S: seq },
});

describe('the byTime index on dynalite', () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());
  /** Writes the items 25 at a time (BatchWriteItem's most). */
  const putAll = async (items: readonly Record<string, AttributeValue>[]): Promise<void> => {
    for (let i = 0; i < items.length; i += 25)
      await local.client.send(
        new BatchWriteItemCommand({
          RequestItems: { [DELIVERIES_TABLE.localName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
  };

  it('holds a delivery a wrapped handler still processes only once it is completed, at its completion time', async () => {
    let clock = 1_800_000_000_000;
    const store = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName, now: () => clock });
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const nowSeconds = Math.floor(clock / 1000);
    const claimed = await store.claim(
      {
        source: 'default',
        deliveryId: 'held_1',
        receivedAt: clock,
        expiresAt: nowSeconds + 600,
        headers: {},
        body: Buffer.from('{}'),
        clientIp: '127.0.0.1',
      },
      { nowSeconds, leaseSeconds: 60 },
    );
    expect((await feed.newest({ limit: 10, nowSeconds })).entries).toEqual([]);
    clock += 5_000;
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    await store.complete('default', 'held_1', claimed.token);
    const entries = (await feed.newest({ limit: 10, nowSeconds })).entries;
    expect(entries.map((e) => e.seq)).toEqual([seqOf(clock, 'default', 'held_1')]);
    // Expired deliveries are left out.
    expect((await feed.newest({ limit: 10, nowSeconds: nowSeconds + 600 })).entries).toEqual([]);
  });

  // A list reads ten pages at most (1 item, then 100 at a time for a limit of 1); where they stop was the next cursor,
  // the key itself when not a sort key: the client's next page was 400 cursor_invalid, and it never reached `stripe`.
  it('a list page that stops at an item whose sort key is malformed gives a cursor the API takes, and the next page goes on', async () => {
    const at = 1_900_000_000_000;
    const nowSeconds = Math.floor(at / 1000);
    const item = (seq: string, source: string, id: string) => indexItem(nowSeconds, at, source, id, seq);
    const items = [
      item(seqOf(at, 'stripe', 'wanted'), 'stripe', 'wanted'),
      // Read 901st, newest first: where the tenth page stops.
      item(`${seqFloor(at + 500)}#Other`, 'other', 'edited'),
      ...Array.from({ length: 900 }, (_, i) => item(seqOf(at + 1000 + i, 'other', `o${i}`), 'other', `o${i}`)),
    ];
    await putAll(items);
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const first = await feed.newest({ sources: ['stripe'], limit: 1, nowSeconds });
    expect(first.entries).toEqual([]);
    const next = first.next as string;
    expect(decodeCursor(encodeCursor(next))).toBe(next);
    const second = await feed.newest({ sources: ['stripe'], limit: 1, nowSeconds, before: next });
    expect(second.entries.map((e) => e.deliveryId)).toEqual(['wanted']);
  });

  // The read budget (core/reader/read-budget.ts) grants a list so many items and charges what the page says it read.
  it('a list page reads no more index items than maxItems, says how many it read, and its next cursor goes on from there', async () => {
    const at = 1_950_000_000_000;
    const nowSeconds = Math.floor(at / 1000);
    const item = (ms: number, source: string, id: string) => indexItem(nowSeconds, ms, source, id);
    const items = [item(at, 'budgeted', 'wanted'), ...Array.from({ length: 300 }, (_, i) => item(at + 1 + i, 'crowd', `c${i}`))];
    await putAll(items);
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const before = seqOf(at + 301, 'crowd', '~');
    // Unbounded, one list reads every other source's item on its way (a filter costs what it reads): 301.
    const whole = await feed.newest({ sources: ['budgeted'], limit: 1, nowSeconds, before });
    expect(whole.entries.map((e) => e.deliveryId)).toEqual(['wanted']);
    expect(whole.read).toBe(301);
    // With 120 items at most a page: three pages, none reading more, the last one finding it (its second Query reads a
    // hundred: a page reads whole Queries, each no more than is left of its 120).
    const pages = [];
    let cursor: string | undefined = before;
    do {
      const page = await feed.newest({ sources: ['budgeted'], limit: 1, nowSeconds, before: cursor, maxItems: 120 });
      pages.push(page);
      cursor = page.next;
    } while (cursor !== undefined && pages.at(-1)?.entries.length === 0 && pages.length < 10);
    expect(pages.map((p) => p.read)).toEqual([120, 120, 101]);
    expect(pages.flatMap((p) => p.entries.map((e) => e.deliveryId))).toEqual(['wanted']);
    // A stream's read says what it read too, and an empty one counts as one (DynamoDB bills it).
    expect((await feed.between({ after: seqOf(at - 1, 'a', 'a'), upTo: seqOf(at + 50, 'z', 'z'), limit: 500, nowSeconds })).read).toBe(51);
    expect((await feed.between({ after: seqOf(at - 10, 'a', 'a'), upTo: seqOf(at - 5, 'z', 'z'), limit: 500, nowSeconds })).read).toBe(1);
  });

  // A cursor is base64url, not sealed: the exact key of another source's delivery tells a token scoped away from that
  // source its name and the delivery's id (boundWithin). A list the read budget held to a few items stopped among other
  // sources' deliveries in the millisecond of its cursor, and handed out the key it stopped at as its next cursor.
  it('a list page the read budget cuts among other sources in its cursor’s millisecond names none of them, and skips nothing', async () => {
    const at = 1_960_000_000_000;
    const nowSeconds = Math.floor(at / 1000);
    const item = (ms: number, source: string, id: string) => indexItem(nowSeconds, ms, source, id);
    const items = [
      item(at - 1, 'zeta', 'older'),
      item(at, 'alpha', 'secret_1'),
      item(at, 'alpha', 'secret_2'),
      item(at, 'alpha', 'secret_3'),
      item(at, 'zeta', 'newer'),
    ];
    await putAll(items);
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const before = seqOf(at, 'zeta', 'newer');
    const cursors: string[] = [];
    const listed: string[] = [];
    let cursor: string | undefined = before;
    for (const maxItems of [1, 2, 3, 120]) {
      const page = await feed.newest({ sources: ['zeta'], limit: 1, nowSeconds, before: cursor, maxItems });
      expect(page.read).toBeLessThanOrEqual(maxItems);
      listed.push(...page.entries.map((e) => e.deliveryId));
      if (page.next !== undefined) cursors.push(page.next);
      cursor = page.next;
      if (cursor === undefined || page.entries.length > 0) break;
    }
    for (const next of cursors) expect(next).not.toMatch(/alpha|secret/);
    // Held back, not passed over: the budget's next, larger grant reads on to the scoped delivery below them.
    expect(listed).toEqual(['older']);
  });

  // The same without a budget: ten pages stopped among more of another source's deliveries in the cursor's millisecond
  // than a request reads (a thousand and one), and the key they stopped at was the next cursor.
  it('a list page cut at its ten pages among other sources in its cursor’s millisecond names none of them either', async () => {
    const at = 1_970_000_000_000;
    const nowSeconds = Math.floor(at / 1000);
    const item = (ms: number, source: string, id: string) => indexItem(nowSeconds, ms, source, id);
    const items = [item(at, 'zeta', 'newer'), ...Array.from({ length: 1001 }, (_, i) => item(at, 'alpha', `secret_${i}`))];
    await putAll(items);
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const page = await feed.newest({ sources: ['zeta'], limit: 1, nowSeconds, before: seqOf(at, 'zeta', 'newer') });
    expect(page.entries).toEqual([]);
    expect(page.next).toBeDefined();
    expect(page.next).not.toMatch(/alpha|secret/);
    // Below that millisecond, so a client following it moves on.
    expect((page.next as string) < seqFloor(at)).toBe(true);
  });
});
