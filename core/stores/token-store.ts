import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { FILTER_SOURCES_MAX } from './delivery-feed.js';
import { isUnavailable, itemOfFailedCondition, retriedBySdk, storeLabel, translateStoreError } from './dynamodb-errors.js';

/** Every read token starts with this, so secret scanners can find a leaked one. */
export const TOKEN_PREFIX = 'hwk_';
/** Random bytes in a token (base64url after the prefix). */
export const TOKEN_BYTES = 32;
/** `hwk_` and 43 base64url characters (32 bytes). */
export const TOKEN_FORMAT = /^hwk_[A-Za-z0-9_-]{43}$/;
/** A token id: 16 hex digits (the start of the token's SHA-256). */
export const TOKEN_ID = /^[0-9a-f]{16}$/;
/** The most sources a token is created with: as many as one read's DynamoDB filter can name ({@link FILTER_SOURCES_MAX}). */
export const TOKEN_SOURCES_MAX = FILTER_SOURCES_MAX;

/** A read token as stored: never the token itself, only its SHA-256. */
export interface TokenRecord {
  /** The first 16 hex digits of the token's SHA-256: what `token list` shows and `token revoke` takes. */
  readonly id: string;
  readonly name: string;
  /** Sources the token may read; empty means every source. */
  readonly sources: readonly string[];
  /** Epoch seconds. */
  readonly createdAt: number;
  /** Epoch seconds; the token is refused from then on. */
  readonly expiresAt: number;
  /** Epoch seconds, updated at most once a minute per function instance. */
  readonly lastUsedAt?: number;
  /** Epoch seconds; a revoked token is refused. */
  readonly revokedAt?: number;
  /**
   * Set when the stored item holds `sources` in another shape than a list of strings (a string set or a
   * string typed in the console, or none at all): the token's scope cannot be read, so it is refused.
   */
  readonly malformed?: string;
}

/** The SHA-256 of a token (hex) and its id. */
export const hashToken = (token: string): { readonly id: string; readonly hash: string } => {
  const hash = createHash('sha256').update(token, 'utf8').digest('hex');
  return { id: hash.slice(0, 16), hash };
};

/** A new random token: `hwk_` + 32 random bytes in base64url. */
export const generateToken = (): { readonly token: string; readonly id: string; readonly hash: string } => {
  const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, ...hashToken(token) };
};

/** Whether a token is usable now: not revoked, not expired, its scope readable. */
export const tokenLive = (record: TokenRecord, nowSeconds: number): boolean =>
  record.malformed === undefined && record.revokedAt === undefined && record.expiresAt > nowSeconds;

/** Where read tokens live. */
export interface TokenStore {
  /** Stores a new token's record under its hash. */
  create(record: TokenRecord, hash: string): Promise<void>;
  /** The record whose stored hash equals `hash` (compared in constant time), else `undefined`. */
  find(id: string, hash: string): Promise<TokenRecord | undefined>;
  /** Every token, live or not, newest first. */
  list(): Promise<TokenRecord[]>;
  /** Marks a token revoked; `false` when there is no such token (or it was already revoked). */
  revoke(id: string, nowSeconds: number): Promise<boolean>;
  /** Records a use (`lastUsedAt`). */
  touch(id: string, nowSeconds: number): Promise<void>;
}

type Item = Record<string, AttributeValue>;
const keyOf = (id: string): Item => ({ pk: { S: `token#${id}` } });

/**
 * A stored item as a record, failing closed on what create() and revoke() would not have written (an item edited
 * by hand): read leniently, a `sources` string set or string (`["billing"]` typed in the console) was no list, so
 * no sources, so every source; and a `revokedAt` that was not a number was no revocation. A scope that is not a
 * list of strings now marks the record malformed (refused), and a `revokedAt` of any type revokes it.
 */
const fromItem = (item: Item): TokenRecord => {
  const listed = item.sources?.L;
  const sources = listed?.every((v) => typeof v.S === 'string') ? listed.map((v) => v.S as string) : undefined;
  const revokedAt = item.revokedAt === undefined ? undefined : Number(item.revokedAt.N ?? 0);
  return {
    id: item.id?.S ?? '',
    name: item.name?.S ?? '',
    sources: sources ?? [],
    createdAt: Number(item.createdAt?.N ?? 0),
    expiresAt: Number(item.expiresAt?.N ?? 0),
    ...(item.lastUsedAt?.N ? { lastUsedAt: Number(item.lastUsedAt.N) } : {}),
    ...(revokedAt === undefined ? {} : { revokedAt: Number.isFinite(revokedAt) ? revokedAt : 0 }),
    ...(sources === undefined ? { malformed: 'sources is not a list of source names' } : {}),
  };
};

/**
 * Read tokens on DynamoDB, one item per token keyed by its id (the start of its
 * SHA-256), holding the full hash; TTL `expiresAt` is the token's expiry (also
 * checked in code: TTL deletion is lazy).
 */
export class DynamoDbTokenStore implements TokenStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  /** How its 503 names it. */
  readonly #store: string;

  constructor(options: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#store = storeLabel('token store', options.tableName);
  }

  async create(record: TokenRecord, hash: string): Promise<void> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: {
            ...keyOf(record.id),
            id: { S: record.id },
            hash: { S: hash },
            name: { S: record.name },
            sources: { L: record.sources.map((s) => ({ S: s })) },
            createdAt: { N: String(record.createdAt) },
            expiresAt: { N: String(record.expiresAt) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      // Our own item: the answer was lost and the SDK sent the same PutItem again. The hash is of 32 random bytes:
      // only this call wrote it. Failing here would leave a live token whose secret was never shown.
      if (
        error instanceof ConditionalCheckFailedException &&
        (await itemOfFailedCondition(this.#client, this.#tableName, keyOf(record.id), error, this.#store))?.hash?.S === hash
      )
        return;
      // Every attempt throttled or unanswered: the first may still have landed (its answer lost, the retries
      // refused). One consistent read tells: a token written but never shown would be one no one can use.
      if (isUnavailable(error) && (await this.#readBack(record.id))?.hash?.S === hash) return;
      translateStoreError(error, this.#store);
    }
  }

  /**
   * The token `id` as stored, read once more after a write whose every attempt was throttled or unanswered (the
   * first may have landed, its answer lost); `undefined` when the table cannot tell either.
   */
  async #readBack(id: string): Promise<Item | undefined> {
    try {
      return (await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: keyOf(id), ConsistentRead: true }))).Item;
    } catch {
      return undefined;
    }
  }

  async find(id: string, hash: string): Promise<TokenRecord | undefined> {
    let item: Item | undefined;
    try {
      item = (await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: keyOf(id), ConsistentRead: true }))).Item;
    } catch (error) {
      translateStoreError(error, this.#store);
    }
    const stored = Buffer.from(item?.hash?.S ?? '', 'utf8');
    const given = Buffer.from(hash, 'utf8');
    if (!item || stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
    return fromItem(item);
  }

  async list(): Promise<TokenRecord[]> {
    const found: TokenRecord[] = [];
    let start: Item | undefined;
    try {
      do {
        const page = await this.#client.send(new ScanCommand({ TableName: this.#tableName, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) if (item.pk?.S?.startsWith('token#')) found.push(fromItem(item));
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      translateStoreError(error, this.#store);
    }
    return found.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  async revoke(id: string, nowSeconds: number): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: keyOf(id),
          UpdateExpression: 'SET revokedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (isUnavailable(error) && (await this.#readBack(id))?.revokedAt?.N === String(nowSeconds)) return true;
      if (!(error instanceof ConditionalCheckFailedException)) return translateStoreError(error, this.#store);
      // A retry (the SDK resends when an answer is lost) can fail on our own first attempt's revokedAt: still revoked by us.
      return (
        retriedBySdk(error) &&
        (await itemOfFailedCondition(this.#client, this.#tableName, keyOf(id), error, this.#store))?.revokedAt?.N === String(nowSeconds)
      );
    }
  }

  async touch(id: string, nowSeconds: number): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: keyOf(id),
          UpdateExpression: 'SET lastUsedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      translateStoreError(error, this.#store);
    }
  }
}
