import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteItemCommand, GetItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DamagedDeliveryError } from '../../../core/errors.js';
import { BODY_PART_PREFIX, bodyPartKey, MAX_STORED_BODY_BYTES } from '../../../core/stores/body-parts.js';
import { DynamoDbDeliveryFeed } from '../../../core/stores/delivery-feed.js';
import { deliveryKey, type DeliveryRecord, type StoredDelivery } from '../../../core/stores/delivery-store.js';
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

  it('stores one of 8 copies sent at once, and only its parts: the others remove theirs', async () => {
    const r = record();
    const results = await Promise.all(Array.from({ length: 8 }, () => store.claim(r, { nowSeconds: NOW })));
    const claimed = results.filter((result) => result.outcome === 'claimed');
    expect(claimed).toHaveLength(1);
    const token = (await recordItem(r))?.token?.S as string;
    expect(claimed[0]).toEqual({ outcome: 'claimed', token });
    expect(await partsOf(token)).toHaveLength(2);
    // No part in the table that no record names.
    const items = await scan();
    const named = new Set(items.filter((i) => !i.pk?.S?.startsWith(BODY_PART_PREFIX)).map((i) => i.token?.S));
    expect(items.filter((i) => i.pk?.S?.startsWith(BODY_PART_PREFIX) && !named.has(i.pk.S.split('#')[1]))).toEqual([]);
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
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

  it('answers a reader racing the release of a held large delivery as a delivery gone, not damaged (500)', async () => {
    const r = record({ source: 'large-race' });
    const claimed = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    // The wrapped handler fails as the reader reads: release removes the record and its parts under the reader.
    const release = () => store.release(r.source, r.deliveryId, claimed.token);
    expect(await betweenRecordAndParts(release, () => store.get(r.source, r.deliveryId, NOW + 1))).toBeUndefined();
    const again = await store.claim(r, { nowSeconds: NOW + 2, leaseSeconds: 30 });
    if (again.outcome !== 'claimed') throw new Error('not claimed again');
    const listed = await betweenRecordAndParts(
      () => store.release(r.source, r.deliveryId, again.token),
      () => store.listChecked({ source: r.source, limit: 10, nowSeconds: NOW + 3 }),
    );
    expect(listed).toEqual([]);
  });

  it("gives a reader racing a takeover of an expired lease the new claim's body, not a damaged delivery", async () => {
    const r = record({ source: 'large-race' });
    const first = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    if (first.outcome !== 'claimed') throw new Error('not claimed');
    // The reader's clock is a second behind the copy that takes over: it read the record still held.
    const takeover = async () => expect((await store.claim(r, { nowSeconds: NOW + 31, leaseSeconds: 30 })).outcome).toBe('claimed');
    const read = await betweenRecordAndParts(takeover, () => store.get(r.source, r.deliveryId, NOW + 30 - 1));
    expect(read?.body.equals(r.body)).toBe(true);
    expect((await recordItem(r))?.token?.S).not.toBe(first.token);
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
      const writes = units.filter((u) => u.command === 'PutItemCommand' && u.pk.startsWith(BODY_PART_PREFIX)).map((u) => u.units);
      units.length = 0;
      expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
      const reads = units.filter((u) => u.pk.startsWith(BODY_PART_PREFIX)).reduce((sum, u) => sum + u.units, 0);
      // DynamoDB bills a write unit per KB and a consistent read unit per 4 KB of the item, each rounded up; dynalite counts alike.
      expect(writes).toEqual([372, 216]);
      expect(reads).toBe(147);
      const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
      expect(readme).toContain(`2 for 600 KB of random bytes: ${writes[0]} and ${writes[1]} write units`);
      expect(readme).toContain(`${reads} read units for those 600 KB`);
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
