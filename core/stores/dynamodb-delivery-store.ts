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
import { DamagedDeliveryError, HttpError, StoreUnavailableError } from '../errors.js';
import { bodyDigest, bodyPartKey, isBodyPartKey, MAX_BODY_PARTS, MAX_STORED_BODY_BYTES, splitBody } from './body-parts.js';
import { translateStoreError } from './dynamodb-errors.js';
import { itemReadUnits, MAX_ITEM_READ_UNITS, MAX_PART_READ_UNITS } from './read-units.js';
import { FEED, parseSeq, seqOf, storedTimeMs } from './delivery-feed.js';
import {
  deliveryKey,
  type ClaimOptions,
  type ClaimResult,
  type DeliveryRecord,
  type DeliveryState,
  type DeliveryStore,
  type GetOptions,
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

/**
 * The answer to a claim of a delivery `existing` holds. None: it was deleted between the failed write and the read
 * (someone released it), and the sender retries.
 */
const duplicateOf = (existing: Item | undefined, nowSeconds: number): ClaimResult => {
  if (!existing) return { outcome: 'duplicate', status: 'processing', leaseExpiresAt: nowSeconds + 1 };
  const stored = stateOfItem(existing);
  return {
    outcome: 'duplicate',
    status: stored.status,
    ...(stored.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: stored.leaseExpiresAt }),
  };
};

/**
 * The record as a claim with this lease writes it: a held record lives at least as long as its lease. Past its
 * expiresAt it counted as absent (and TTL may delete it) while the handler still ran, so with a retention shorter
 * than the lease a copy ran the handler again.
 */
const heldFor = (record: DeliveryRecord, lease: number | undefined): DeliveryRecord =>
  lease === undefined || record.expiresAt >= lease ? record : { ...record, expiresAt: lease };

/** How long a record whose parts are being written holds when the caller gives no `storingLeaseSeconds`. */
const DEFAULT_STORING_LEASE_SECONDS = 60;

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

/** Whether a record names parts this store could have written (a count within {@link MAX_BODY_PARTS}, and its claim's token). */
const namesValidParts = (item: Item): boolean => {
  const count = partsOf(item);
  return count !== undefined && Number.isInteger(count) && count >= 1 && count <= MAX_BODY_PARTS && item.token?.S !== undefined;
};

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

/** Who holds a record and whether it is complete: what a complete or release whose condition failed reads back. */
const HOLDER_PROJECTION = {
  ProjectionExpression: '#token, #status',
  ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
} as const;

type Projection = typeof STATE_PROJECTION | typeof HOLDER_PROJECTION;

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
 * `source#deliveryId` (a body in parts: that PutItem, then its parts, then an
 * UpdateItem that marks it stored). The condition treats an expired record (or
 * an expired processing lease) as absent, because TTL deletion is lazy.
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
    const compressed = gzipSync(record.body);
    // The common case, a body that fits the item, is one PutItem as it always was.
    if (compressed.length > MAX_STORED_BODY_BYTES) return this.#claimInParts(record, options, token, compressed);
    const lease = options.leaseSeconds === undefined ? undefined : options.nowSeconds + options.leaseSeconds;
    const item = toItem(heldFor(record, lease), lease === undefined ? 'stored' : 'processing', token, this.#now(), { compressed }, lease);
    try {
      await this.#putClaim(item, options.nowSeconds, false);
      return { outcome: 'claimed', token };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) return translateStoreError(error);
      const existing = error.Item ?? (await this.#getItem(record.source, record.deliveryId));
      // Our own write: its answer was lost and the SDK sent the same PutItem again. The claim is ours
      // (the token is this call's random UUID); calling it a duplicate would hold a wrapped handler off for the whole lease.
      if (existing?.token?.S === token) return { outcome: 'claimed', token };
      return duplicateOf(existing, options.nowSeconds);
    }
  }

  /**
   * A body in parts is claimed first and written after: the conditional PutItem writes the record `processing`, with
   * a lease and naming its parts, and only the claim that wins writes them. Copies sent at the same moment (a
   * provider's retries, or one captured delivery replayed many times at once) each wrote every part before the
   * claim decided, and the losers deleted theirs: about 9,200 write units a copy of a 4.5 MiB body. Now a copy's
   * answer costs one read, or one failed PutItem of the record, and is 409 while the parts are written.
   *
   * Without a wrapped handler's lease the record holds for `storingLeaseSeconds` (the invocation's time: a writer
   * that died mid-parts is taken over after it, and the takeover removes the parts it left), then moves to `stored`
   * with its index keys once every part is there. A failure on the way releases the claim (the record while it is
   * still `processing`, then its parts) and is 503.
   */
  async #claimInParts(record: DeliveryRecord, options: ClaimOptions, token: string, compressed: Buffer): Promise<ClaimResult> {
    const parts = splitBody(compressed);
    if (parts.length > MAX_BODY_PARTS)
      throw new HttpError(
        413,
        'payload_too_large',
        `The body compresses to ${compressed.length} bytes, more than the delivery store holds.`,
      );
    const storing = options.leaseSeconds === undefined;
    const lease = options.nowSeconds + (options.leaseSeconds ?? options.storingLeaseSeconds ?? DEFAULT_STORING_LEASE_SECONDS);
    const held = heldFor(record, lease);
    const item = toItem(held, 'processing', token, this.#now(), { parts, digest: bodyDigest(record.body) }, lease);
    // One read of the record (no body: it names its parts): a copy of a delivery stored or being stored stops here, and
    // the record read is the one this claim replaces if the PutItem's answer (which names it) is lost.
    const before = await this.#getItem(record.source, record.deliveryId);
    if (before && isLive(before, options.nowSeconds)) return duplicateOf(before, options.nowSeconds);
    let replaced: Item | undefined;
    try {
      replaced = await this.#putClaim(item, options.nowSeconds, true);
    } catch (error) {
      // No part is written yet: nothing to remove. An error that came after DynamoDB wrote the record (its answer lost)
      // leaves it `processing` until its lease, with parts it names and never got: the takeover then removes nothing.
      if (!(error instanceof ConditionalCheckFailedException)) return translateStoreError(error);
      const existing = error.Item ?? (await this.#getItem(record.source, record.deliveryId));
      if (existing?.token?.S !== token) return duplicateOf(existing, options.nowSeconds);
      // Our own write, its answer lost: the record it replaced went with the answer; the one read above is it, or one
      // removed since (this claim's record holds the key, so no record names that one's parts).
      replaced = before;
    }
    if (replaced && replaced.token?.S !== token) await this.#dropPartsOf(replaced);
    try {
      await this.#putParts(token, parts, held.expiresAt);
      if (storing) await this.#markStored(record.source, record.deliveryId, token);
    } catch (error) {
      await this.#releaseHeld(record.source, record.deliveryId, token, parts.length);
      return translateStoreError(error);
    }
    return { outcome: 'claimed', token };
  }

  /**
   * The claim's conditional PutItem; with `returnReplaced`, the record it replaced (expired, or a lease run out),
   * which may name parts of its own.
   * @throws ConditionalCheckFailedException (with the record found) when a live record holds the delivery
   */
  async #putClaim(item: Item, nowSeconds: number, returnReplaced: boolean): Promise<Item | undefined> {
    const written = await this.#client.send(
      new PutItemCommand({
        TableName: this.#tableName,
        Item: item,
        ConditionExpression: CLAIM_CONDITION,
        ExpressionAttributeNames: CLAIM_NAMES,
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds) }, ':processing': { S: 'processing' } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...(returnReplaced ? { ReturnValues: 'ALL_OLD' } : {}),
      }),
    );
    return written.Attributes;
  }

  /**
   * Moves a record whose parts this claim has written to `stored`, as {@link complete} does, but says when it could
   * not: a claim whose lease ran out while it wrote was taken over (or released), and its sender must not be told
   * 202 for a delivery another claim now decides. A resent request whose answer was lost finds it `stored` with
   * this token: done.
   * @throws StoreUnavailableError when the token no longer holds the record (its parts, no one's now, are removed)
   */
  async #markStored(source: string, deliveryId: string, token: string): Promise<void> {
    if (!(await this.complete(source, deliveryId, token)))
      throw new StoreUnavailableError(
        new Error('the claim of a delivery stored in parts was taken over or released while its parts were written'),
      );
  }

  /**
   * Only a record this token holds and that is still `processing` moves into
   * the time-ordered index. A second call (a caller completing twice, or the
   * SDK resending a write whose answer was lost) finds it `stored` and changes
   * nothing: a new `seq` would move the delivery in the list order and send it
   * to the event stream twice. That, like a token that no longer holds the
   * record, fails the condition and resolves without an error; one projected
   * read then tells the two apart (`true`: this token's record is stored;
   * `false`: another claim holds it, or it is gone).
   */
  async complete(source: string, deliveryId: string, token: string): Promise<boolean> {
    const done = await this.#conditional(
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
    if (done) return true;
    const now = await this.#getItem(source, deliveryId, HOLDER_PROJECTION);
    return now?.token?.S === token && now.status?.S === 'stored';
  }

  /**
   * Removes the record, then the parts it names (best effort: TTL removes what is left). When the condition fails,
   * one projected read says why: gone is `true` (nothing of anyone's to remove: a resent request whose first answer
   * was lost finds its own delete done), another claim's record is `false` (a takeover; or, rarer, the sender's retry
   * claimed it between a lost answer and its resend: the replay guard tells the two apart by its lease).
   */
  async release(source: string, deliveryId: string, token: string): Promise<boolean> {
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
      if (!(error instanceof ConditionalCheckFailedException)) return translateStoreError(error);
      const now = await this.#getItem(source, deliveryId, HOLDER_PROJECTION);
      return now === undefined;
    }
    if (removed) await this.#dropPartsOf(removed);
    return true;
  }

  /**
   * Two token-conditioned writes at most: the lease alone when the record's `expiresAt` is already past it (the
   * common case: a retention of days), else the lease and `expiresAt` together, so the record never expires before
   * its lease (as {@link claim} writes it). `false` when the token no longer holds a `processing` record.
   *
   * A body in parts moves with its record: each part's `expiresAt` is raised to the same time. Before, the parts kept
   * the expiry the claim gave them, so a handler that ran past its source's retention left a record that TTL kept and
   * parts that TTL deleted: once completed, the delivery was listed and its body was gone (`delivery_damaged`).
   * @throws StoreUnavailableError when a part could not be moved (the record has been): the lease keeper tries again
   *   at its next tick, which finds the record's `expiresAt` behind the new lease once more and moves both
   */
  async renew(source: string, deliveryId: string, token: string, leaseExpiresAt: number): Promise<boolean> {
    const update = (set: string, condition: string, returnValues?: 'ALL_NEW'): UpdateItemCommand =>
      new UpdateItemCommand({
        TableName: this.#tableName,
        Key: { pk: { S: deliveryKey(source, deliveryId) } },
        UpdateExpression: set,
        ConditionExpression: `#token = :token AND #status = :processing${condition}`,
        ExpressionAttributeNames: { '#status': 'status', '#token': 'token', '#lease': 'leaseExpiresAt', '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: { ':token': { S: token }, ':processing': { S: 'processing' }, ':lease': { N: String(leaseExpiresAt) } },
        ...(returnValues ? { ReturnValues: returnValues } : {}),
      });
    if (await this.#conditional(update('SET #lease = :lease', ' AND #expiresAt >= :lease'))) return true;
    let record: Item | undefined;
    try {
      // ALL_NEW: a record in parts names them (and carries no body); a return value costs no read capacity.
      record = (await this.#client.send(update('SET #lease = :lease, #expiresAt = :lease', '', 'ALL_NEW'))).Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateStoreError(error);
    }
    if (record && namesValidParts(record)) await this.#extendParts(token, partsOf(record) ?? 0, leaseExpiresAt);
    return true;
  }

  /** Raises the `expiresAt` of a claim's parts to `expiresAt` (never lowers it, never writes a part that is not there). */
  async #extendParts(token: string, count: number, expiresAt: number): Promise<void> {
    const moved = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: { pk: { S: bodyPartKey(token, i) } },
            UpdateExpression: 'SET #expiresAt = :expiresAt',
            ConditionExpression: 'attribute_exists(#pk) AND #expiresAt < :expiresAt',
            ExpressionAttributeNames: { '#pk': 'pk', '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':expiresAt': { N: String(expiresAt) } },
          }),
        ),
      ),
    );
    const failed = moved.find((result) => result.status === 'rejected' && !(result.reason instanceof ConditionalCheckFailedException));
    if (failed?.status === 'rejected') translateStoreError(failed.reason);
  }

  /**
   * A delivery whose body is in parts is `undefined` while `processing`, and none of its parts is read: they may still
   * be being written (the claim writes them after its record). Before, a read of one a wrapped handler held read
   * every part (hundreds of kilobytes each) for the API to answer 404.
   * `options.beforeRead` is told each read before it is made, with the most read units it can cost: the record (the most
   * an item costs, {@link MAX_ITEM_READ_UNITS}), its parts (their count times {@link MAX_PART_READ_UNITS}) only when they
   * are read, the record again when a part is found missing; `options.afterRead` is told what each of them cost.
   * @throws DamagedDeliveryError when the body is in parts and they do not give it back whole
   */
  async get(source: string, deliveryId: string, nowSeconds: number, options: GetOptions = {}): Promise<StoredDelivery | undefined> {
    // No source name starts with `~`, but the command line passes what it is given: a part is never a delivery.
    if (isBodyPartKey(deliveryKey(source, deliveryId))) return undefined;
    const item = await this.#getRecord(source, deliveryId, options);
    return item && isLive(item, nowSeconds) ? this.#fromItem(item, nowSeconds, options) : undefined;
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

  /** A delivery's record, told to `reads` before (at the most an item costs: its size is not known yet) and after (its cost). */
  async #getRecord(source: string, deliveryId: string, reads: GetOptions): Promise<Item | undefined> {
    await reads.beforeRead?.(MAX_ITEM_READ_UNITS);
    const item = await this.#getItem(source, deliveryId);
    reads.afterRead?.(itemReadUnits(item));
    return item;
  }

  async #getItem(source: string, deliveryId: string, projection?: Projection): Promise<Item | undefined> {
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

  /** A token-conditioned write: `false` when its condition fails (nothing of ours to change), `true` when it landed. */
  async #conditional(command: UpdateItemCommand): Promise<boolean> {
    try {
      await this.#client.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateStoreError(error);
    }
  }

  /**
   * The record as stored, its body put together from its parts when it has them; `undefined` when the record is no
   * longer live. A part missing may be one that went with its record after the record was read: a wrapped handler's
   * failure released it, or a takeover of its expired lease replaced it (both remove the parts the record named).
   * The record is read again then: gone or expired is `undefined`, replaced is the new record read once more; only
   * the same record is damaged. Before, a reader racing a release was answered 500 `delivery_damaged`.
   */
  async #fromItem(item: Item, nowSeconds: number, reads: GetOptions = {}, again = true): Promise<StoredDelivery | undefined> {
    const parts = partsOf(item);
    if (parts === undefined) return fromItem(item);
    // Its parts may still be being written (the claim writes them after its record): not a delivery to read yet.
    if (item.status?.S === 'processing') return undefined;
    try {
      return fromItem(item, await this.#readParts(item, reads));
    } catch (error) {
      if (!(error instanceof DamagedDeliveryError)) throw error;
      const now = await this.#getRecord(item.source?.S ?? '', item.deliveryId?.S ?? '', reads);
      if (!now || !isLive(now, nowSeconds)) return undefined;
      if (now.token?.S === item.token?.S || !again) throw error;
      return this.#fromItem(now, nowSeconds, reads, false);
    }
  }

  /**
   * The body of a record stored in parts, checked whole (length and SHA-256) before it is given to anyone. `reads` is
   * told the parts before they are read, at the most each costs (the record names their count, not the last one's size),
   * and what they cost after. A record that names no valid parts reads none, and tells nothing.
   * @throws DamagedDeliveryError for a part missing, or bytes that are not the body stored: never a truncated body
   */
  async #readParts(item: Item, reads: GetOptions): Promise<Buffer> {
    const source = item.source?.S ?? '';
    const deliveryId = item.deliveryId?.S ?? '';
    const count = partsOf(item) ?? 0;
    const token = item.token?.S;
    if (!namesValidParts(item) || !token) throw new DamagedDeliveryError(source, deliveryId, 'its record names no valid parts');
    reads.beforeParts?.(Number(item.bodyBytes?.N ?? 0));
    await reads.beforeRead?.(count * MAX_PART_READ_UNITS);
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
    reads.afterRead?.(parts.reduce((sum, part) => sum + itemReadUnits(part), 0));
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

  /** Writes a body's parts, each with its delivery's expiry; throws the first failure once every write has settled. */
  async #putParts(token: string, parts: readonly Buffer[], expiresAt: number): Promise<void> {
    const written = await Promise.allSettled(
      parts.map((bytes, i) =>
        this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: partItem(token, i, bytes, expiresAt) })),
      ),
    );
    const failed = written.find((result) => result.status === 'rejected');
    // The claim's record names them: its release removes them (after the record, so no record names a part gone).
    if (failed) throw failed.reason;
  }

  /**
   * Gives back a claim whose parts could not all be written (or whose record could not be marked stored): the record
   * if this token holds it and it is still `processing`, then the parts it names. A record already `stored` (a
   * write whose answer was lost) stays, and so do its parts. A record another claim holds now (a takeover) has not
   * this claim's parts: they are no one's and are removed. Best effort: what is left goes when the lease passes
   * (a takeover removes the parts the record names) or at its expiry.
   */
  async #releaseHeld(source: string, deliveryId: string, token: string, count: number): Promise<void> {
    let removed: Item | undefined;
    try {
      const result = await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: { pk: { S: deliveryKey(source, deliveryId) } },
          ConditionExpression: '#token = :token AND #status = :processing',
          ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
          ExpressionAttributeValues: { ':token': { S: token }, ':processing': { S: 'processing' } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      removed = result.Attributes;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) return;
      // DynamoDB gives the record with the failure; dynalite does not. Unread, the parts stay: they may be a stored body.
      const found = error.Item ?? (await this.#getItem(source, deliveryId).catch(() => ({ token: { S: token } })));
      if (found?.token?.S !== token) await this.#dropParts(token, count);
      return;
    }
    if (removed) await this.#dropPartsOf(removed);
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
