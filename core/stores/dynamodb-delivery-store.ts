import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DamagedDeliveryError, HttpError } from '../errors.js';
import { bodyDigest, bodyPartKey, isBodyPartKey, MAX_BODY_PARTS, MAX_STORED_BODY_BYTES, splitBody } from './body-parts.js';
import { translateStoreError } from './dynamodb-errors.js';
import { FEED, parseSeq, seqOf, storedTimeMs } from './delivery-feed.js';
import {
  deliveryKey,
  type ClaimOptions,
  type ClaimResult,
  type DeliveryRecord,
  type DeliveryState,
  type DeliveryStore,
  type StoredDelivery,
} from './delivery-store.js';

export { MAX_STORED_BODY_BYTES } from './body-parts.js';

/** Options of {@link DynamoDbDeliveryStore}. */
export interface DynamoDbDeliveryStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Clock for the time-ordered index key (`seq`), epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

type Item = Record<string, AttributeValue>;

/** How a delivery's item holds its gzipped body: in itself, or in part items it names ({@link splitBody}). */
type StoredBody = { readonly compressed: Buffer } | { readonly parts: readonly Buffer[]; readonly digest: string };

const toItem = (
  record: DeliveryRecord,
  status: 'stored' | 'processing',
  token: string,
  nowMs: number,
  stored: StoredBody,
  leaseExpiresAt?: number,
): Item => {
  const item: Item = {
    pk: { S: deliveryKey(record.source, record.deliveryId) },
    source: { S: record.source },
    deliveryId: { S: record.deliveryId },
    receivedAt: { N: String(record.receivedAt) },
    expiresAt: { N: String(record.expiresAt) },
    headers: { M: Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, { S: v }])) },
    ...('compressed' in stored
      ? { body: { B: stored.compressed } }
      : { bodyParts: { N: String(stored.parts.length) }, bodyDigest: { S: stored.digest } }),
    bodyEncoding: { S: 'gzip' },
    bodyBytes: { N: String(record.body.length) },
    clientIp: { S: record.clientIp },
    status: { S: status },
    token: { S: token },
  };
  if (record.eventType) item.eventType = { S: record.eventType };
  // Only a complete record enters the time-ordered index (a held one enters when completed).
  if (status === 'stored') Object.assign(item, indexKeys(record.source, record.deliveryId, nowMs));
  if (record.providerId) item.providerId = { S: record.providerId };
  if (leaseExpiresAt !== undefined) item.leaseExpiresAt = { N: String(leaseExpiresAt) };
  return item;
};

/** The byTime index keys of a delivery stored at `nowMs`. */
const indexKeys = (source: string, deliveryId: string, nowMs: number): Item => ({
  feed: { S: FEED },
  seq: { S: seqOf(nowMs, source, deliveryId) },
});

/** A part item: its key, the same expiry as its delivery's, and its bytes; no index keys, no source. */
const partItem = (token: string, index: number, bytes: Buffer, expiresAt: number): Item => ({
  pk: { S: bodyPartKey(token, index) },
  expiresAt: { N: String(expiresAt) },
  part: { B: bytes },
});

/** What a claim that finds a record needs of it: its state, not its body. */
const stateOfItem = (item: Item): DeliveryState => ({
  status: item.status?.S === 'processing' ? 'processing' : 'stored',
  ...(item.leaseExpiresAt?.N ? { leaseExpiresAt: Number(item.leaseExpiresAt.N) } : {}),
});

/** The answer to a claim of a delivery `existing` holds. */
const duplicateOf = (existing: Item): ClaimResult => {
  const stored = stateOfItem(existing);
  return {
    outcome: 'duplicate',
    status: stored.status,
    ...(stored.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: stored.leaseExpiresAt }),
  };
};

/**
 * A delivery {@link DynamoDbDeliveryStore.listChecked} found whose body cannot be read whole: its record's fields, the
 * body's length the record names and why it cannot be read; never a body (not even an empty one a caller could take).
 */
export interface DamagedListing extends Omit<StoredDelivery, 'body'> {
  readonly bodyBytes: number;
  /** Why the body cannot be read whole (`part 2 of 2 is missing`). */
  readonly damaged: string;
}

/** A listed delivery: read whole, or marked damaged. */
export type ListedDelivery = StoredDelivery | DamagedListing;

/** Whether a listed delivery is marked damaged (it has no body). */
export const isDamaged = (delivery: ListedDelivery): delivery is DamagedListing => 'damaged' in delivery;

/** A time no Date can show (an item edited by hand) is the one its sort key holds, else the epoch: never a throw when shown. */
const receivedAtOf = (item: Item): number => storedTimeMs(item.receivedAt) ?? parseSeq(item.seq?.S ?? '')?.storedAtMs ?? 0;

/** The part count an item names, or `undefined` when its body is in itself. */
const partsOf = (item: Item): number | undefined => (item.bodyParts?.N === undefined ? undefined : Number(item.bodyParts.N));

const fromItem = (item: Item, whole?: Buffer): StoredDelivery => {
  const raw = item.body?.B ?? new Uint8Array();
  const body = whole ?? (item.bodyEncoding?.S === 'gzip' ? gunzipSync(raw) : Buffer.from(raw));
  const headers = Object.fromEntries(Object.entries(item.headers?.M ?? {}).map(([k, v]) => [k, v.S ?? '']));
  return {
    source: item.source?.S ?? '',
    deliveryId: item.deliveryId?.S ?? '',
    receivedAt: receivedAtOf(item),
    expiresAt: Number(item.expiresAt?.N ?? 0),
    ...(item.eventType?.S ? { eventType: item.eventType.S } : {}),
    ...(item.providerId?.S ? { providerId: item.providerId.S } : {}),
    headers,
    body,
    clientIp: item.clientIp?.S ?? '',
    ...stateOfItem(item),
  };
};

const isLive = (item: Item, nowSeconds: number): boolean => {
  if (Number(item.expiresAt?.N ?? 0) <= nowSeconds) return false;
  if (item.status?.S === 'processing' && Number(item.leaseExpiresAt?.N ?? 0) <= nowSeconds) return false;
  return true;
};

/** What {@link isLive} and a copy's answer read of a record: no body, no headers. */
const STATE_PROJECTION = {
  ProjectionExpression: '#status, #expiresAt, #lease',
  ExpressionAttributeNames: { '#status': 'status', '#expiresAt': 'expiresAt', '#lease': 'leaseExpiresAt' },
} as const;

/**
 * A claim succeeds over no record, an expired one (TTL deletion is lazy) or a
 * processing record whose lease has run out. AND binds tighter than OR in
 * DynamoDB's grammar, so the last two terms are one clause without
 * parentheses, and leaving them out is worth it: dynalite (`npm start`)
 * parses the condition on every PutItem, and its parser backtracks over a
 * parenthesized clause, 240 µs a parse against 75 µs written this way (median
 * of 7 rounds of 2,000 parses with dynalite's own parser; the one-term
 * condition of the benchmark floor takes 80 µs). DynamoDB reads both alike.
 */
const CLAIM_CONDITION = 'attribute_not_exists(#pk) OR #expiresAt <= :now OR #lease <= :now AND #status = :processing';
const CLAIM_NAMES = { '#pk': 'pk', '#expiresAt': 'expiresAt', '#status': 'status', '#lease': 'leaseExpiresAt' } as const;

/**
 * The delivery store on DynamoDB: one conditional PutItem per delivery, keyed
 * `source#deliveryId`. The condition treats an expired record (or an expired
 * processing lease) as absent, because TTL deletion is lazy.
 */
export class DynamoDbDeliveryStore implements DeliveryStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: () => number;

  constructor(options: DynamoDbDeliveryStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#now = options.now ?? Date.now;
  }

  async claim(record: DeliveryRecord, options: ClaimOptions): Promise<ClaimResult> {
    const token = randomUUID();
    const lease = options.leaseSeconds === undefined ? undefined : options.nowSeconds + options.leaseSeconds;
    // A held record lives at least as long as its lease: past its expiresAt it counted as absent (and TTL may delete it)
    // while the handler still ran, so with a retention shorter than the lease a copy ran the handler again.
    const held = lease === undefined || record.expiresAt >= lease ? record : { ...record, expiresAt: lease };
    const compressed = gzipSync(held.body);
    // The common case, a body that fits the item, is one PutItem as it always was. A larger one has its parts written
    // first, so that the record, once it can be seen, names parts that are there.
    const parts = compressed.length > MAX_STORED_BODY_BYTES ? splitBody(compressed) : undefined;
    if (parts && parts.length > MAX_BODY_PARTS)
      throw new HttpError(
        413,
        'payload_too_large',
        `The body compresses to ${compressed.length} bytes, more than the delivery store holds.`,
      );
    const body: StoredBody = parts ? { parts, digest: bodyDigest(held.body) } : { compressed };
    const item = toItem(held, lease === undefined ? 'stored' : 'processing', token, this.#now(), body, lease);
    // The record the read below found, not live (expired, or its lease run out): the one this claim may replace.
    let before: Item | undefined;
    if (parts) {
      // One read before writing hundreds of kilobytes: a provider's retry of a stored delivery writes no part. Two copies
      // at once both get past it; the claim's condition still decides, and the loser removes its parts.
      before = await this.#getItem(record.source, record.deliveryId);
      if (before && isLive(before, options.nowSeconds)) return duplicateOf(before);
      await this.#putParts(token, parts, held.expiresAt);
    }
    try {
      const written = await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: item,
          ConditionExpression: CLAIM_CONDITION,
          ExpressionAttributeNames: CLAIM_NAMES,
          ExpressionAttributeValues: { ':now': { N: String(options.nowSeconds) }, ':processing': { S: 'processing' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          // Only with parts: the record this claim replaced (expired, or a lease run out) may name parts of its own.
          ...(parts ? { ReturnValues: 'ALL_OLD' } : {}),
        }),
      );
      const replaced = written.Attributes;
      if (replaced && replaced.token?.S !== token) await this.#dropPartsOf(replaced);
      return { outcome: 'claimed', token };
    } catch (error) {
      // Parts are left to TTL here: an error may come after DynamoDB wrote the record (its answer lost), and the record
      // would then name parts deleted under it; the sender's retry would be a duplicate of a delivery no one can read.
      if (!(error instanceof ConditionalCheckFailedException)) return translateStoreError(error);
      const existing = error.Item ?? (await this.#getItem(record.source, record.deliveryId));
      // Our own write: its answer was lost and the SDK sent the same PutItem again. The claim is ours
      // (the token is this call's random UUID); calling it a duplicate would hold a wrapped handler off for the whole lease.
      if (existing?.token?.S === token) {
        // The record the lost write replaced (ReturnValues) went with its answer. The one read before the parts, if any,
        // is it or one removed since: this claim's record now holds the key, so no record names that one's parts.
        // Before, they stayed until TTL: a lease-expired record's expiry is its retention, days of a body's size.
        if (before && before.token?.S !== token) await this.#dropPartsOf(before);
        return { outcome: 'claimed', token };
      }
      // Another claim holds the delivery (or released it since): this one's parts are no one's.
      if (parts) await this.#dropParts(token, parts.length);
      // Deleted between the failed write and the read: someone released it; the sender retries.
      if (!existing) return { outcome: 'duplicate', status: 'processing', leaseExpiresAt: options.nowSeconds + 1 };
      return duplicateOf(existing);
    }
  }

  /**
   * Only a record this token holds and that is still `processing` moves into
   * the time-ordered index. A second call (a caller completing twice, or the
   * SDK resending a write whose answer was lost) finds it `stored` and changes
   * nothing: a new `seq` would move the delivery in the list order and send it
   * to the event stream twice. That, like a token that no longer holds the
   * record, fails the condition and resolves without an error.
   */
  async complete(source: string, deliveryId: string, token: string): Promise<void> {
    await this.#conditional(
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: { pk: { S: deliveryKey(source, deliveryId) } },
        UpdateExpression: 'SET #status = :stored, feed = :feed, seq = :seq REMOVE leaseExpiresAt',
        ConditionExpression: '#token = :token AND #status = :processing',
        ExpressionAttributeNames: { '#status': 'status', '#token': 'token' },
        ExpressionAttributeValues: {
          ':stored': { S: 'stored' },
          ':processing': { S: 'processing' },
          ':token': { S: token },
          ':feed': { S: FEED },
          ':seq': { S: seqOf(this.#now(), source, deliveryId) },
        },
      }),
    );
  }

  /** Removes the record, then the parts it names (best effort: TTL removes what is left). */
  async release(source: string, deliveryId: string, token: string): Promise<void> {
    let removed: Item | undefined;
    try {
      const result = await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: { pk: { S: deliveryKey(source, deliveryId) } },
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': { S: token } },
          ReturnValues: 'ALL_OLD',
        }),
      );
      removed = result.Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      translateStoreError(error);
    }
    if (removed) await this.#dropPartsOf(removed);
  }

  /** @throws DamagedDeliveryError when the body is in parts and they do not give it back whole */
  async get(source: string, deliveryId: string, nowSeconds: number): Promise<StoredDelivery | undefined> {
    // No source name starts with `~`, but the command line passes what it is given: a part is never a delivery.
    if (isBodyPartKey(deliveryKey(source, deliveryId))) return undefined;
    const item = await this.#getItem(source, deliveryId);
    return item && isLive(item, nowSeconds) ? this.#fromItem(item, nowSeconds) : undefined;
  }

  /** The state alone: one GetItem projecting what {@link isLive} and a copy's answer read, never a body or its parts. */
  async stateOf(source: string, deliveryId: string, nowSeconds: number): Promise<DeliveryState | undefined> {
    if (isBodyPartKey(deliveryKey(source, deliveryId))) return undefined;
    const item = await this.#getItem(source, deliveryId, STATE_PROJECTION);
    return item && isLive(item, nowSeconds) ? stateOfItem(item) : undefined;
  }

  /** @throws DamagedDeliveryError for the first listed delivery whose body cannot be read whole ({@link listChecked} marks it instead) */
  async list(options: { readonly source?: string; readonly limit: number; readonly nowSeconds: number }): Promise<StoredDelivery[]> {
    const listed = await this.listChecked(options);
    const damaged = listed.find(isDamaged);
    if (damaged) throw new DamagedDeliveryError(damaged.source, damaged.deliveryId, damaged.damaged);
    return listed as StoredDelivery[];
  }

  /**
   * Live deliveries, newest first, as {@link list}, but a delivery whose body cannot be read whole is listed as a
   * {@link DamagedListing} (its record's fields and why, never a body) instead of failing the whole listing: one damaged
   * delivery made `hookwarden deliveries` fail for its whole source until the delivery expired.
   */
  async listChecked(options: { readonly source?: string; readonly limit: number; readonly nowSeconds: number }): Promise<ListedDelivery[]> {
    const found: Array<{ readonly item: Item; readonly receivedAt: number }> = [];
    let start: Item | undefined;
    try {
      do {
        const page = await this.#client.send(new ScanCommand({ TableName: this.#tableName, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          // A body part is not a delivery (it has no source, and no status that would make it one).
          if (isBodyPartKey(item.pk?.S) || !isLive(item, options.nowSeconds)) continue;
          if (options.source !== undefined && item.source?.S !== options.source) continue;
          found.push({ item, receivedAt: receivedAtOf(item) });
        }
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      translateStoreError(error);
    }
    // Only the deliveries listed have their bodies read (a body in parts costs a read a part).
    const listed = found.sort((a, b) => b.receivedAt - a.receivedAt).slice(0, options.limit);
    const read = await Promise.all(
      listed.map(async ({ item }): Promise<ListedDelivery | undefined> => {
        try {
          return await this.#fromItem(item, options.nowSeconds);
        } catch (error) {
          if (!(error instanceof DamagedDeliveryError)) throw error;
          const { body: _none, ...summary } = fromItem(item, Buffer.alloc(0));
          return { ...summary, bodyBytes: Number(item.bodyBytes?.N ?? 0), damaged: error.reason };
        }
      }),
    );
    return read.filter((delivery) => delivery !== undefined);
  }

  async ping(): Promise<void> {
    try {
      await this.#client.send(new DescribeTableCommand({ TableName: this.#tableName }));
    } catch (error) {
      translateStoreError(error);
    }
  }

  async #getItem(source: string, deliveryId: string, projection?: typeof STATE_PROJECTION): Promise<Item | undefined> {
    try {
      const result = await this.#client.send(
        new GetItemCommand({
          TableName: this.#tableName,
          Key: { pk: { S: deliveryKey(source, deliveryId) } },
          ConsistentRead: true,
          ...projection,
        }),
      );
      return result.Item;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /** A token-conditioned write: if the token no longer holds the record, there is nothing of ours to change. */
  async #conditional(command: UpdateItemCommand): Promise<void> {
    try {
      await this.#client.send(command);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      translateStoreError(error);
    }
  }

  /**
   * The record as stored, its body put together from its parts when it has them; `undefined` when the record is no
   * longer live. A part missing may be one that went with its record after the record was read: a wrapped handler's
   * failure released it, or a takeover of its expired lease replaced it (both remove the parts the record named).
   * The record is read again then: gone or expired is `undefined`, replaced is the new record read once more; only
   * the same record is damaged. Before, a reader racing a release was answered 500 `delivery_damaged`.
   */
  async #fromItem(item: Item, nowSeconds: number, again = true): Promise<StoredDelivery | undefined> {
    if (partsOf(item) === undefined) return fromItem(item);
    try {
      return fromItem(item, await this.#readParts(item));
    } catch (error) {
      if (!(error instanceof DamagedDeliveryError)) throw error;
      const now = await this.#getItem(item.source?.S ?? '', item.deliveryId?.S ?? '');
      if (!now || !isLive(now, nowSeconds)) return undefined;
      if (now.token?.S === item.token?.S || !again) throw error;
      return this.#fromItem(now, nowSeconds, false);
    }
  }

  /**
   * The body of a record stored in parts, checked whole (length and SHA-256) before it is given to anyone.
   * @throws DamagedDeliveryError for a part missing, or bytes that are not the body stored: never a truncated body
   */
  async #readParts(item: Item): Promise<Buffer> {
    const source = item.source?.S ?? '';
    const deliveryId = item.deliveryId?.S ?? '';
    const count = partsOf(item) ?? 0;
    const token = item.token?.S;
    if (!Number.isInteger(count) || count < 1 || count > MAX_BODY_PARTS || !token)
      throw new DamagedDeliveryError(source, deliveryId, 'its record names no valid parts');
    let parts: Array<Item | undefined>;
    try {
      parts = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const result = await this.#client.send(
            new GetItemCommand({ TableName: this.#tableName, Key: { pk: { S: bodyPartKey(token, i) } }, ConsistentRead: true }),
          );
          return result.Item;
        }),
      );
    } catch (error) {
      return translateStoreError(error);
    }
    const missing = parts.findIndex((part) => part?.part?.B === undefined);
    if (missing >= 0) throw new DamagedDeliveryError(source, deliveryId, `part ${missing + 1} of ${count} is missing`);
    let body: Buffer;
    try {
      body = gunzipSync(Buffer.concat(parts.map((part) => part?.part?.B as Uint8Array)));
    } catch {
      throw new DamagedDeliveryError(source, deliveryId, 'its parts do not decompress');
    }
    if (body.length !== Number(item.bodyBytes?.N) || bodyDigest(body) !== item.bodyDigest?.S)
      throw new DamagedDeliveryError(source, deliveryId, 'its parts are not the body stored (length or SHA-256 differs)');
    return body;
  }

  /** Writes a body's parts, each with its delivery's expiry. On a failure, removes those written and throws (503). */
  async #putParts(token: string, parts: readonly Buffer[], expiresAt: number): Promise<void> {
    const written = await Promise.allSettled(
      parts.map((bytes, i) =>
        this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: partItem(token, i, bytes, expiresAt) })),
      ),
    );
    const failed = written.find((result) => result.status === 'rejected');
    if (!failed) return;
    // No record names them: removing them cannot take a body from anyone.
    await this.#dropParts(token, parts.length);
    translateStoreError(failed.reason);
  }

  /** Removes the parts a removed or replaced record named, if any. */
  async #dropPartsOf(item: Item): Promise<void> {
    const count = partsOf(item);
    const token = item.token?.S;
    if (count !== undefined && token && Number.isInteger(count) && count > 0 && count <= MAX_BODY_PARTS)
      await this.#dropParts(token, count);
  }

  /** Best effort: a part left behind is never read (no record names it) and TTL removes it with its delivery's expiry. */
  async #dropParts(token: string, count: number): Promise<void> {
    await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        this.#client.send(new DeleteItemCommand({ TableName: this.#tableName, Key: { pk: { S: bodyPartKey(token, i) } } })),
      ),
    );
  }
}
