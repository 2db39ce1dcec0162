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

describe('the byTime index on dynalite', () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());

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
    const item = (seq: string, source: string, id: string): Record<string, AttributeValue> => ({
      pk: { S: `${source}#${id}` },
      source: { S: source },
      deliveryId: { S: id },
      receivedAt: { N: String(at) },
      expiresAt: { N: String(nowSeconds + 600) },
      bodyBytes: { N: '2' },
      feed: { S: FEED },
      seq: { S: seq },
    });
    const items = [
      item(seqOf(at, 'stripe', 'wanted'), 'stripe', 'wanted'),
      // Read 901st, newest first: where the tenth page stops.
      item(`${seqFloor(at + 500)}#Other`, 'other', 'edited'),
      ...Array.from({ length: 900 }, (_, i) => item(seqOf(at + 1000 + i, 'other', `o${i}`), 'other', `o${i}`)),
    ];
    for (let i = 0; i < items.length; i += 25)
      await local.client.send(
        new BatchWriteItemCommand({
          RequestItems: { [DELIVERIES_TABLE.localName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: DELIVERIES_TABLE.localName });
    const first = await feed.newest({ sources: ['stripe'], limit: 1, nowSeconds });
    expect(first.entries).toEqual([]);
    const next = first.next as string;
    expect(decodeCursor(encodeCursor(next))).toBe(next);
    const second = await feed.newest({ sources: ['stripe'], limit: 1, nowSeconds, before: next });
    expect(second.entries.map((e) => e.deliveryId)).toEqual(['wanted']);
  });
});
