import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteItemCommand, GetItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DamagedDeliveryError } from '../../../core/errors.js';
import { BODY_PART_PREFIX, bodyPartKey, MAX_STORED_BODY_BYTES } from '../../../core/stores/body-parts.js';
import { DynamoDbDeliveryFeed } from '../../../core/stores/delivery-feed.js';
import { deliveryKey, type DeliveryRecord, type StoredDelivery } from '../../../core/stores/delivery-store.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { countCalls } from '../../helpers/harness.js';

const NOW = 1_800_000_000;
const TABLE = DELIVERIES_TABLE.localName;
let n = 0;
/** 600 KB of random bytes: gzip cannot bring them under the 380,000 bytes one item holds. */
const large = (): Buffer => randomBytes(600_000);
const record = (overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  source: 'large',
  deliveryId: `msg_large_${++n}`,
  receivedAt: NOW * 1000 + n,
  expiresAt: NOW + 3600,
  headers: { 'content-type': 'application/octet-stream' },
  body: large(),
  clientIp: '203.0.113.1',
  ...overrides,
});

type Item = Record<string, AttributeValue>;

describe('a body too large for one item, stored in parts (dynalite)', () => {
  let local: LocalStore;
  let store: DynamoDbDeliveryStore;
  let calls: ReturnType<typeof countCalls>;
  const scan = async (): Promise<Item[]> => {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await local.client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };
  const partsOf = async (token: string): Promise<Item[]> =>
    (await scan()).filter((i) => i.pk?.S?.startsWith(`${BODY_PART_PREFIX}${token}#`));
  /** Part items no record names (a body no one can read, or a part left behind). */
  const orphanParts = async (): Promise<string[]> => {
    const items = await scan();
    const named = new Set(items.filter((i) => !i.pk?.S?.startsWith(BODY_PART_PREFIX)).map((i) => i.token?.S));
    return items.flatMap((i) => (i.pk?.S?.startsWith(BODY_PART_PREFIX) && !named.has(i.pk.S.split('#')[1]) ? [i.pk.S] : []));
  };
  const recordItem = async (r: DeliveryRecord): Promise<Item | undefined> =>
    (await local.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: deliveryKey(r.source, r.deliveryId) } } }))).Item;

  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbDeliveryStore({ client: local.client, tableName: TABLE });
    calls = countCalls(local.client);
  });
  afterAll(() => local.close());

  it('stores it (it was refused 413 payload_too_large) and gives back the exact bytes', async () => {
    const r = record({ eventType: 'file.uploaded' });
    const claimed = await store.claim(r, { nowSeconds: NOW });
    expect(claimed.outcome).toBe('claimed');
    const stored = await store.get(r.source, r.deliveryId, NOW);
    expect(stored).toMatchObject({ source: 'large', deliveryId: r.deliveryId, eventType: 'file.uploaded', status: 'stored' });
    expect(stored?.body.equals(r.body)).toBe(true);
    // The record names its parts and holds no body; each part expires with it and stays out of the time-ordered index.
    const item = await recordItem(r);
    expect(item?.body).toBeUndefined();
    expect(Number(item?.bodyParts?.N)).toBe(2);
    const parts = await partsOf(item?.token?.S as string);
    expect(parts).toHaveLength(2);
    for (const part of parts) {
      expect(part.expiresAt?.N).toBe(String(r.expiresAt));
      expect(part.feed ?? part.seq ?? part.source ?? part.status).toBeUndefined();
      expect((part.part?.B as Uint8Array).length).toBeLessThanOrEqual(MAX_STORED_BODY_BYTES);
    }
  });

  it('never reads a part as a delivery, whatever source and id a caller names', async () => {
    const r = record();
    await store.claim(r, { nowSeconds: NOW });
    const token = (await recordItem(r))?.token?.S as string;
    const [source, ...rest] = bodyPartKey(token, 0).split('#');
    expect(await store.get(source as string, rest.join('#'), NOW)).toBeUndefined();
  });

  it('keeps a body that fits one item in that item: one PutItem, no part', async () => {
    const r = record({ body: Buffer.from(JSON.stringify({ small: true })) });
    const before = calls.count();
    expect((await store.claim(r, { nowSeconds: NOW })).outcome).toBe('claimed');
    expect(calls.names.slice(before)).toEqual(['PutItemCommand']);
    const item = await recordItem(r);
    expect(item?.body?.B).toBeDefined();
    expect(item?.bodyParts).toBeUndefined();
    expect(await partsOf(item?.token?.S as string)).toEqual([]);
  });

  it('answers a copy as a duplicate after one read, writing no part, and keeps the first body', async () => {
    const r = record();
    await store.claim(r, { nowSeconds: NOW });
    const before = (await scan()).length;
    const from = calls.count();
    expect(await store.claim({ ...r, body: large() }, { nowSeconds: NOW + 10 })).toEqual({ outcome: 'duplicate', status: 'stored' });
    expect(calls.names.slice(from)).toEqual(['GetItemCommand']);
    expect((await scan()).length).toBe(before);
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });

  /** The PutItems of part keys that `write` makes. */
  const partWritesOf = async <T>(write: () => Promise<T>): Promise<{ readonly result: T; readonly partWrites: number }> => {
    let partWrites = 0;
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Item?: Item }).Item?.pk?.S;
        if (context.commandName === 'PutItemCommand' && key?.startsWith(BODY_PART_PREFIX)) partWrites += 1;
        return next(args);
      },
      { step: 'initialize', name: 'partWrites' },
    );
    try {
      return { result: await write(), partWrites };
    } finally {
      local.client.middlewareStack.remove('partWrites');
    }
  };

  it('stores one of 8 copies sent at once, and writes its parts once: the claim decides before any part is written', async () => {
    const r = record();
    const { result: results, partWrites } = await partWritesOf(() =>
      Promise.all(Array.from({ length: 8 }, () => store.claim(r, { nowSeconds: NOW }))),
    );
    // Before: every copy that got past the read wrote both parts before its claim failed, then deleted them (up to 16).
    expect(partWrites).toBe(2);
    const claimed = results.filter((result) => result.outcome === 'claimed');
    expect(claimed).toHaveLength(1);
    // The others were told it is being stored (409 in progress) or stored (200 duplicate): never claimed.
    for (const result of results.filter((result) => result.outcome !== 'claimed'))
      expect(['processing', 'stored']).toContain((result as { status: string }).status);
    const token = (await recordItem(r))?.token?.S as string;
    expect(claimed[0]).toEqual({ outcome: 'claimed', token });
    expect(await partsOf(token)).toHaveLength(2);
    expect(await orphanParts()).toEqual([]);
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
    expect(await store.claim(r, { nowSeconds: NOW + 1 })).toEqual({ outcome: 'duplicate', status: 'stored' });
  });

  it('answers a copy that comes while the parts are written as in progress until the lease, writing none', async () => {
    const r = record();
    let copy: Promise<Awaited<ReturnType<DynamoDbDeliveryStore['claim']>>> | undefined;
    let first: string | undefined;
    const written: string[] = [];
    // The first claim's record is written; at its first part, a copy comes (and is answered) before the part is sent.
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Item?: Item }).Item?.pk?.S;
        if (context.commandName === 'PutItemCommand' && key?.startsWith(BODY_PART_PREFIX)) {
          written.push(key);
          if (copy === undefined) {
            first = key.split('#')[1];
            copy = store.claim(r, { nowSeconds: NOW + 1 });
            await copy;
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'copyDuringParts' },
    );
    try {
      expect((await store.claim(r, { nowSeconds: NOW, storingLeaseSeconds: 11 })).outcome).toBe('claimed');
    } finally {
      local.client.middlewareStack.remove('copyDuringParts');
    }
    expect(await copy).toEqual({ outcome: 'duplicate', status: 'processing', leaseExpiresAt: NOW + 11 });
    // Only the first claim's two parts were ever written.
    expect(written.filter((key) => key.split('#')[1] !== first)).toEqual([]);
    expect(written).toHaveLength(2);
    // Stored once the parts are all there: out of the index until then, in it after.
    const item = await recordItem(r);
    expect(item?.status?.S).toBe('stored');
    expect(item?.seq?.S).toBeDefined();
    expect(item?.leaseExpiresAt).toBeUndefined();
  });

  it('gives a claim whose part write fails back (503): no record, no part, and the retry stores the body whole', async () => {
    const r = record();
    let failed = false;
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Item?: Item }).Item?.pk?.S;
        if (!failed && context.commandName === 'PutItemCommand' && key?.endsWith('#1') && key.startsWith(BODY_PART_PREFIX)) {
          failed = true;
          throw Object.assign(new Error('Throughput exceeds the current capacity of your table or index.'), {
            name: 'ProvisionedThroughputExceededException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPart' },
    );
    try {
      await expect(store.claim(r, { nowSeconds: NOW })).rejects.toMatchObject({ statusCode: 503, code: 'unavailable' });
    } finally {
      local.client.middlewareStack.remove('failSecondPart');
    }
    expect(failed).toBe(true);
    expect(await recordItem(r)).toBeUndefined();
    expect(await orphanParts()).toEqual([]);
    const retry = await store.claim(r, { nowSeconds: NOW + 1 });
    if (retry.outcome !== 'claimed') throw new Error('retry not claimed');
    expect(await partsOf(retry.token)).toHaveLength(2);
    expect((await store.get(r.source, r.deliveryId, NOW + 1))?.body.equals(r.body)).toBe(true);
  });

  it('keeps a delivery whole when marking it stored landed but failed on the way back: 503, and the retry is a duplicate', async () => {
    const r = record();
    let landed = false;
    // The update lands; its answer never comes back, on any attempt (the SDK gives up with a throttling error).
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (!landed && context.commandName === 'UpdateItemCommand') {
          landed = true;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return result;
      },
      { step: 'initialize', name: 'updateLandedAnswerLost' },
    );
    try {
      await expect(store.claim(r, { nowSeconds: NOW })).rejects.toMatchObject({ statusCode: 503 });
    } finally {
      local.client.middlewareStack.remove('updateLandedAnswerLost');
    }
    expect(landed).toBe(true);
    // The release given the claim back changed nothing of a stored record, nor removed the parts it names.
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
    expect(await store.claim(r, { nowSeconds: NOW + 1 })).toEqual({ outcome: 'duplicate', status: 'stored' });
  });

  it('takes over from a writer that died mid-parts once its lease runs out, and removes the part it left', async () => {
    const r = record();
    // The writer's client loses its way after the first part: the second never comes back (its function died).
    const dying = createDynamoDbClient({ endpoint: local.endpoint, region: 'local', maxAttempts: 1 });
    dying.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Item?: Item }).Item?.pk?.S;
        if (context.commandName === 'PutItemCommand' && key?.startsWith(BODY_PART_PREFIX) && key.endsWith('#1'))
          return new Promise(() => {});
        return next(args);
      },
      { step: 'initialize', name: 'dies' },
    );
    const writer = new DynamoDbDeliveryStore({ client: dying, tableName: TABLE });
    void writer.claim(r, { nowSeconds: NOW, storingLeaseSeconds: 11 });
    let held: Item | undefined;
    for (let i = 0; i < 200 && (held === undefined || (await partsOf(held.token?.S as string)).length === 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      held = await recordItem(r);
    }
    const dead = held?.token?.S as string;
    expect(held?.status?.S).toBe('processing');
    expect(await partsOf(dead)).toHaveLength(1);
    // Within the lease, a copy is told it is in progress, no reader sees a body, and nothing is written.
    expect(await store.claim(r, { nowSeconds: NOW + 10 })).toEqual({
      outcome: 'duplicate',
      status: 'processing',
      leaseExpiresAt: NOW + 11,
    });
    expect(await store.get(r.source, r.deliveryId, NOW + 10)).toBeUndefined();
    // After it, the retry takes over, stores the body whole and removes the dead writer's part.
    const retry = await store.claim(r, { nowSeconds: NOW + 11 });
    if (retry.outcome !== 'claimed') throw new Error('not taken over');
    expect(await partsOf(dead)).toEqual([]);
    expect((await store.get(r.source, r.deliveryId, NOW + 11))?.body.equals(r.body)).toBe(true);
    dying.destroy();
  });

  it('lists large deliveries once each, with their bodies, and never a part as a delivery', async () => {
    const source = 'large-list';
    const a = record({ source });
    const b = record({ source });
    await store.claim(a, { nowSeconds: NOW });
    await store.claim(b, { nowSeconds: NOW });
    const listed = await store.list({ source, limit: 10, nowSeconds: NOW });
    expect(listed.map((d) => d.deliveryId)).toEqual([b.deliveryId, a.deliveryId]);
    expect(listed[0]?.body.equals(b.body)).toBe(true);
    const everything = await store.list({ limit: 1000, nowSeconds: NOW });
    expect(everything.filter((d) => d.source === '' || d.deliveryId === '')).toEqual([]);
    // The time-ordered index (the API's list and the event stream) holds the deliveries, not their parts.
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: TABLE });
    const page = await feed.newest({ limit: 100, nowSeconds: NOW });
    expect(page.entries.filter((e) => e.source === '' || e.seq.startsWith(BODY_PART_PREFIX))).toEqual([]);
    expect(page.entries.find((e) => e.deliveryId === a.deliveryId)?.size).toBe(a.body.length);
  });

  it('fails closed when a part is missing: an error naming the delivery, never a truncated body', async () => {
    const r = record();
    await store.claim(r, { nowSeconds: NOW });
    const token = (await recordItem(r))?.token?.S as string;
    await local.client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: bodyPartKey(token, 1) } } }));
    await expect(store.get(r.source, r.deliveryId, NOW)).rejects.toBeInstanceOf(DamagedDeliveryError);
    await expect(store.get(r.source, r.deliveryId, NOW)).rejects.toMatchObject({ statusCode: 500, code: 'delivery_damaged' });
    await expect(store.list({ source: r.source, limit: 10, nowSeconds: NOW })).rejects.toBeInstanceOf(DamagedDeliveryError);
  });

  it.each([
    [
      'a part replaced by other bytes',
      (token: string) => ({ pk: bodyPartKey(token, 0), set: 'part = :v', value: { B: randomBytes(1000) } }),
    ],
    ['the digest changed', (_token: string, key: string) => ({ pk: key, set: 'bodyDigest = :v', value: { S: 'x'.repeat(43) } })],
    ['the part count changed', (_token: string, key: string) => ({ pk: key, set: 'bodyParts = :v', value: { N: '1' } })],
  ])('fails closed when %s', async (_what, change) => {
    const r = record({ source: 'large-altered' });
    await store.claim(r, { nowSeconds: NOW });
    const token = (await recordItem(r))?.token?.S as string;
    const { pk, set, value } = change(token, deliveryKey(r.source, r.deliveryId));
    await local.client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: pk } },
        UpdateExpression: `SET ${set}`,
        ExpressionAttributeValues: { ':v': value },
      }),
    );
    await expect(store.get(r.source, r.deliveryId, NOW)).rejects.toBeInstanceOf(DamagedDeliveryError);
  });

  /** Runs `between` once, after a reader has read a record and before its first part is read. */
  const betweenRecordAndParts = async <T>(between: () => Promise<unknown>, read: () => Promise<T>): Promise<T> => {
    let done = false;
    local.client.middlewareStack.add(
      (next) => async (args) => {
        const key = (args.input as { Key?: Item }).Key?.pk?.S;
        if (!done && key?.startsWith(BODY_PART_PREFIX)) {
          done = true;
          await between();
        }
        return next(args);
      },
      { step: 'initialize', name: 'betweenRecordAndParts' },
    );
    try {
      return await read();
    } finally {
      local.client.middlewareStack.remove('betweenRecordAndParts');
    }
  };

  /** The GetItems of part keys that `read` makes. */
  const partReadsOf = async <T>(read: () => Promise<T>): Promise<{ readonly result: T; readonly partReads: number }> => {
    let partReads = 0;
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: Item }).Key?.pk?.S;
        if (context.commandName === 'GetItemCommand' && key?.startsWith(BODY_PART_PREFIX)) partReads += 1;
        return next(args);
      },
      { step: 'initialize', name: 'partReads' },
    );
    try {
      return { result: await read(), partReads };
    } finally {
      local.client.middlewareStack.remove('partReads');
    }
  };

  it('reads none of the parts of a delivery still processing: it is no delivery yet, for get and the list alike', async () => {
    const r = record({ source: 'large-held' });
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    // Before: get read both parts (380 KB each) and gave the body, for the API to answer 404 to a delivery not stored.
    expect(await partReadsOf(() => store.get(r.source, r.deliveryId, NOW + 1))).toEqual({ result: undefined, partReads: 0 });
    expect(await partReadsOf(() => store.listChecked({ source: r.source, limit: 10, nowSeconds: NOW + 1 }))).toEqual({
      result: [],
      partReads: 0,
    });
    await store.complete(r.source, r.deliveryId, claimed.token);
    const stored = await partReadsOf(() => store.get(r.source, r.deliveryId, NOW + 2));
    expect(stored.partReads).toBe(2);
    expect(stored.result?.body.equals(r.body)).toBe(true);
  });

  // What the deliveries API charges to a token's read budget: each read, before it is made, at the most it can cost in
  // read units (one per 4 KB), and never a part unread; then what it cost, which DynamoDB (here dynalite) bills alike.
  // Told the items' count, a token's budget was charged one for each part of up to 93 units.
  it('tells beforeRead each read at the most it can cost (record 100, 93 a part), afterRead what it cost', async () => {
    const told: number[] = [];
    const cost: number[] = [];
    const reads = {
      beforeRead: async (units: number): Promise<void> => {
        told.push(units);
      },
      afterRead: (units: number): void => {
        cost.push(units);
      },
    };
    /** What DynamoDB bills a strongly consistent GetItem of the item at `pk`. */
    const billed = async (pk: string): Promise<number> =>
      (
        await local.client.send(
          new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
        )
      ).ConsumedCapacity?.CapacityUnits ?? Number.NaN;
    const small = record({ body: Buffer.from('{}') });
    await store.claim(small, { nowSeconds: NOW });
    expect((await store.get(small.source, small.deliveryId, NOW, reads))?.body.toString()).toBe('{}');
    expect([told.splice(0), cost.splice(0)]).toEqual([[100], [1]]);
    const r = record({ source: 'large-told' });
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect(await store.get(r.source, r.deliveryId, NOW + 1, reads)).toBeUndefined();
    expect([told.splice(0), cost.splice(0)]).toEqual([[100], [1]]);
    await store.complete(r.source, r.deliveryId, claimed.token);
    expect((await store.get(r.source, r.deliveryId, NOW + 2, reads))?.body.equals(r.body)).toBe(true);
    // 600 KB of random bytes: parts of 380,000 bytes (93 units) and about 220,000 (54).
    const parts = [await billed(bodyPartKey(claimed.token, 0)), await billed(bodyPartKey(claimed.token, 1))];
    expect(parts).toEqual([93, 54]);
    expect([told.splice(0), cost.splice(0)]).toEqual([
      [100, 2 * 93],
      [await billed(deliveryKey(r.source, r.deliveryId)), 93 + 54],
    ]);
    // A record holding its body in itself costs what its size says: 200 KB of random bytes, 49 units.
    const inline = record({ source: 'large-inline', body: randomBytes(200_000) });
    await store.claim(inline, { nowSeconds: NOW });
    await store.get(inline.source, inline.deliveryId, NOW, reads);
    expect(await billed(deliveryKey(inline.source, inline.deliveryId))).toBe(49);
    expect([told.splice(0), cost.splice(0)]).toEqual([[100], [49]]);
    // A refusal there stops the read before any part is read.
    const refused = new Error('budget spent');
    const stopped = await partReadsOf(() =>
      store
        .get(r.source, r.deliveryId, NOW + 2, { beforeRead: async (units) => (units > 100 ? Promise.reject(refused) : undefined) })
        .catch((error: unknown) => error),
    );
    expect(stopped).toEqual({ result: refused, partReads: 0 });
  });

  it("gives a reader racing a takeover of an expired record the new claim's body, not a damaged delivery", async () => {
    const r = record({ source: 'large-race', expiresAt: NOW + 30 });
    expect((await store.claim(r, { nowSeconds: NOW, storingLeaseSeconds: 10 })).outcome).toBe('claimed');
    const first = (await recordItem(r))?.token?.S;
    // The reader's clock is two seconds behind the copy that takes over: it read the record still live.
    const takeover = async () =>
      expect((await store.claim({ ...r, expiresAt: NOW + 3600 }, { nowSeconds: NOW + 31 })).outcome).toBe('claimed');
    const read = await betweenRecordAndParts(takeover, () => store.get(r.source, r.deliveryId, NOW + 29));
    expect(read?.body.equals(r.body)).toBe(true);
    expect((await recordItem(r))?.token?.S).not.toBe(first);
  });

  it('lists a delivery whose part is missing marked damaged, with the others, where list fails closed', async () => {
    const damaged = record({ source: 'large-listed' });
    const healthy = record({ source: 'large-listed' });
    await store.claim(damaged, { nowSeconds: NOW });
    await store.claim(healthy, { nowSeconds: NOW });
    const token = (await recordItem(damaged))?.token?.S as string;
    await local.client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: bodyPartKey(token, 0) } } }));
    const listed = await store.listChecked({ source: 'large-listed', limit: 10, nowSeconds: NOW });
    expect(listed.map((d) => d.deliveryId)).toEqual([healthy.deliveryId, damaged.deliveryId]);
    expect(listed[1]).toMatchObject({ deliveryId: damaged.deliveryId, bodyBytes: damaged.body.length, damaged: 'part 1 of 2 is missing' });
    expect(listed[1]).not.toHaveProperty('body');
    expect((listed[0] as StoredDelivery).body.equals(healthy.body)).toBe(true);
    await expect(store.list({ source: 'large-listed', limit: 10, nowSeconds: NOW })).rejects.toBeInstanceOf(DamagedDeliveryError);
  });

  it('holds a large delivery for a wrapped handler: hidden while processing, whole once completed', async () => {
    const r = record();
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect(await store.claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 })).toMatchObject({ outcome: 'duplicate', status: 'processing' });
    await store.complete(r.source, r.deliveryId, claimed.token);
    const stored = await store.get(r.source, r.deliveryId, NOW + 2);
    expect(stored?.status).toBe('stored');
    expect(stored?.body.equals(r.body)).toBe(true);
  });

  it("gives the parts of a held record the expiry raised to its lease, the record's own, and keeps it once completed", async () => {
    // A retention shorter than the lease: the record's expiresAt is raised to the lease, and its parts' must be too.
    const r = record({ expiresAt: NOW + 10 });
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 60 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect((await recordItem(r))?.expiresAt?.N).toBe(String(NOW + 60));
    expect((await partsOf(claimed.token)).map((p) => p.expiresAt?.N)).toEqual([String(NOW + 60), String(NOW + 60)]);
    await store.complete(r.source, r.deliveryId, claimed.token);
    expect((await recordItem(r))?.expiresAt?.N).toBe(String(NOW + 60));
    expect((await store.get(r.source, r.deliveryId, NOW + 59))?.body.equals(r.body)).toBe(true);
  });

  it('removes the parts with the record when a wrapped handler releases it, so the retry stores its own', async () => {
    const r = record();
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect(await partsOf(claimed.token)).toHaveLength(2);
    await store.release(r.source, r.deliveryId, claimed.token);
    expect(await recordItem(r)).toBeUndefined();
    expect(await partsOf(claimed.token)).toEqual([]);
    const retry = await store.claim(r, { nowSeconds: NOW + 1, leaseSeconds: 30 });
    expect(retry.outcome).toBe('claimed');
  });

  it('takes over an expired lease with parts of its own, and removes the ones the expired claim wrote', async () => {
    const r = record();
    const first = await store.claim(r, { nowSeconds: NOW - 100, leaseSeconds: 30 });
    if (first.outcome !== 'claimed') throw new Error('not claimed');
    const second = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (second.outcome !== 'claimed') throw new Error('not taken over');
    expect(await partsOf(first.token)).toEqual([]);
    expect(await partsOf(second.token)).toHaveLength(2);
    await store.complete(r.source, r.deliveryId, second.token);
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });

  it('costs the write and read units the README gives for 600 KB of random bytes', async () => {
    const units: Array<{ readonly command: string; readonly pk: string; readonly units: number }> = [];
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ReturnConsumedCapacity?: string; Item?: Item; Key?: Item };
        input.ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ?? 0;
        units.push({ command: String(context.commandName), pk: (input.Item ?? input.Key)?.pk?.S ?? '', units: consumed });
        return result;
      },
      { step: 'initialize', name: 'consumedCapacity' },
    );
    const r = record({ body: randomBytes(600_000) });
    try {
      expect((await store.claim(r, { nowSeconds: NOW })).outcome).toBe('claimed');
      // In part order: the parts are written at once, and finish in any order.
      const writes = units
        .filter((u) => u.command === 'PutItemCommand' && u.pk.startsWith(BODY_PART_PREFIX))
        .sort((a, b) => Number(a.pk.split('#').at(-1)) - Number(b.pk.split('#').at(-1)))
        .map((u) => u.units);
      // The record: the read before the claim, its claim (`processing`, naming its parts) and the update that marks it stored.
      const recordUnits = units.filter((u) => !u.pk.startsWith(BODY_PART_PREFIX)).map((u) => `${u.command} ${u.units}`);
      units.length = 0;
      expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
      const reads = units.filter((u) => u.pk.startsWith(BODY_PART_PREFIX)).reduce((sum, u) => sum + u.units, 0);
      // DynamoDB bills a write unit per KB and a consistent read unit per 4 KB of the item, each rounded up; dynalite counts alike.
      expect(writes).toEqual([372, 216]);
      expect(reads).toBe(147);
      expect(recordUnits).toEqual(['GetItemCommand 1', 'PutItemCommand 1', 'UpdateItemCommand 1']);
      const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
      expect(readme).toContain(`2 for 600 KB of random bytes: ${writes[0]} and ${writes[1]} write units`);
      expect(readme).toContain(`${reads} read units for those 600 KB`);
      expect(readme).toContain('the record: 1 read unit, then 1 write unit for the claim and 1 for the update');
    } finally {
      local.client.middlewareStack.remove('consumedCapacity');
    }
  });

  it('stores the largest body a source may accept (10 MiB of random bytes) and reads it back', async () => {
    const r = record({ body: randomBytes(10 * 1024 * 1024) });
    expect((await store.claim(r, { nowSeconds: NOW })).outcome).toBe('claimed');
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });
});
