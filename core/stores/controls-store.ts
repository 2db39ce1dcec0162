import { randomUUID } from 'node:crypto';
import {
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConditionalCheckFailedException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { itemOfFailedCondition, retriedBySdk, storeLabel, translateStoreError } from './dynamodb-errors.js';
import { RATE_LIMITS_KEYS } from './tables.js';

/** A blocked IP or CIDR range. */
export interface BlockEntry {
  readonly range: string;
  /** Epoch seconds; the block ends then. */
  readonly expiresAt: number;
  readonly reason: string;
  /** Epoch seconds. */
  readonly createdAt: number;
}

/** A disabled source. */
export interface DisabledSource {
  readonly source: string;
  readonly reason: string;
  /** Epoch seconds. */
  readonly since: number;
}

/** The containment state: blocked ranges and disabled sources (expired blocks already dropped). */
export interface Controls {
  readonly blocks: readonly BlockEntry[];
  readonly disabledSources: readonly DisabledSource[];
}

/** Where containment lives (the rate-limits table, one item). */
export interface ControlsStore {
  load(nowSeconds: number): Promise<Controls>;
  /**
   * Blocks a range until `entry.expiresAt`. A block of the same range that lasts
   * longer stays as it is (a second, shorter block never lifts the first early).
   * @returns the block in force for the range afterwards: `entry`, or the longer one
   */
  block(entry: BlockEntry): Promise<BlockEntry>;
  unblock(range: string): Promise<boolean>;
  disable(source: string, reason: string, nowSeconds: number): Promise<void>;
  enable(source: string): Promise<boolean>;
}

const KEY = { pk: { S: RATE_LIMITS_KEYS.controls } };
type Item = Record<string, AttributeValue>;

/**
 * Containment on DynamoDB: one item (`pk = controls`) with a map of blocks and
 * a map of disabled sources, so a function reads all of it with one GetItem.
 */
export class DynamoDbControlsStore implements ControlsStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  /** How its 503 names it. */
  readonly #store: string;

  constructor(options: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#store = storeLabel('controls store', options.tableName);
  }

  async load(nowSeconds: number): Promise<Controls> {
    const item = await this.#read();
    const blocks = Object.entries(item?.blocks?.M ?? {})
      .map(([range, value]) => ({
        range,
        expiresAt: Number(value.M?.expiresAt?.N ?? 0),
        reason: value.M?.reason?.S ?? '',
        createdAt: Number(value.M?.createdAt?.N ?? 0),
      }))
      .filter((entry) => entry.expiresAt > nowSeconds);
    const disabledSources = Object.entries(item?.disabled?.M ?? {}).map(([source, value]) => ({
      source,
      reason: value.M?.reason?.S ?? '',
      since: Number(value.M?.since?.N ?? 0),
    }));
    return { blocks, disabledSources };
  }

  async block(entry: BlockEntry): Promise<BlockEntry> {
    const written = await this.#setEntry(
      'blocks',
      entry.range,
      { expiresAt: { N: String(entry.expiresAt) }, reason: { S: entry.reason }, createdAt: { N: String(entry.createdAt) } },
      // Never shorter: an operator's 1 h block must not end another's 24 h one. Equal passes, so a retried write is idempotent.
      // "Not longer" rather than "shorter or equal": an entry no function enforces (no numeric expiresAt, edited by hand)
      // is written over; it would fail "<=", `load` would not find it, and the write would be tried again without end.
      {
        condition: 'attribute_not_exists(blocks.#key) OR NOT blocks.#key.expiresAt > :expiresAt',
        values: { ':expiresAt': { N: String(entry.expiresAt) } },
      },
    );
    if (written) return entry;
    const longer = (await this.load(0)).blocks.find((block) => block.range === entry.range);
    // Lifted between the refused write and the read: write again (the condition now holds unless another longer block came).
    return longer ?? this.block(entry);
  }

  async unblock(range: string): Promise<boolean> {
    return this.#removeEntry('blocks', range);
  }

  async disable(source: string, reason: string, nowSeconds: number): Promise<void> {
    await this.#setEntry('disabled', source, { reason: { S: reason }, since: { N: String(nowSeconds) } });
  }

  async enable(source: string): Promise<boolean> {
    return this.#removeEntry('disabled', source);
  }

  /** Sets an entry; with `guard`, only where its condition holds (`false` when it did not). */
  async #setEntry(
    map: 'blocks' | 'disabled',
    key: string,
    value: Record<string, AttributeValue>,
    guard?: { readonly condition: string; readonly values: Record<string, AttributeValue> },
  ): Promise<boolean> {
    try {
      // Create the maps first (a no-op once they exist), then set the entry.
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: KEY,
          UpdateExpression: 'SET blocks = if_not_exists(blocks, :empty), disabled = if_not_exists(disabled, :empty)',
          ExpressionAttributeValues: { ':empty': { M: {} } },
        }),
      );
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: KEY,
          UpdateExpression: `SET ${map}.#key = :value`,
          ExpressionAttributeNames: { '#key': key },
          ExpressionAttributeValues: { ':value': { M: value }, ...guard?.values },
          ...(guard ? { ConditionExpression: guard.condition } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (guard && (error as Error).name === 'ConditionalCheckFailedException') return false;
      return translateStoreError(error, this.#store);
    }
  }

  /**
   * Removes an entry; `false` when there was none. The removal names itself
   * (`lastRemoval`): when its answer is lost and the SDK sends it again, the
   * retry's failed condition finds that name and reports the removal it made,
   * not "was not blocked".
   */
  async #removeEntry(map: 'blocks' | 'disabled', key: string): Promise<boolean> {
    const removal = randomUUID();
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: KEY,
          UpdateExpression: `SET lastRemoval = :removal REMOVE ${map}.#key`,
          ConditionExpression: `attribute_exists(${map}.#key)`,
          ExpressionAttributeNames: { '#key': key },
          ExpressionAttributeValues: { ':removal': { S: removal } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      const failed = error as ConditionalCheckFailedException;
      if (failed.name !== 'ConditionalCheckFailedException') return translateStoreError(error, this.#store);
      if (!retriedBySdk(failed)) return false;
      return (await itemOfFailedCondition(this.#client, this.#tableName, KEY, failed, this.#store))?.lastRemoval?.S === removal;
    }
  }

  async #read(): Promise<Item | undefined> {
    try {
      return (await this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: KEY, ConsistentRead: true }))).Item;
    } catch (error) {
      return translateStoreError(error, this.#store);
    }
  }
}
