import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { admitThreshold, retryAfterSeconds, windowAt, type RateLimit } from '../rate-limit/sliding-window.js';
import { itemOfFailedCondition, retriedBySdk, storeLabel, translateStoreError } from './dynamodb-errors.js';
import type { RateDecision, RateLimiter } from './rate-limit-store.js';
import { RATE_LIMITS_KEYS } from './tables.js';

/** Options of {@link DynamoDbRateLimiter}. */
export interface DynamoDbRateLimiterOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Keys whose previous-window count this container remembers. @default 10000 */
  readonly cacheSize?: number;
}

type Item = Record<string, AttributeValue>;
const n = (value: number): AttributeValue => ({ N: String(value) });

/**
 * The sliding-window counter in one item per key: `w` (window index), `c`
 * (admitted in window w), `p` (admitted in window w-1), TTL `expiresAt`.
 *
 * Steady state is one conditional UpdateItem per request and no read: the
 * previous window's count is final once its window has passed, so each
 * container learns it from its first update's answer (ALL_NEW) and keeps it;
 * the admission test `c ≤ limit − p·(1−f) − 1` is then the write's condition.
 * A container's first request in a window sends the most permissive condition,
 * checks the answer and gives the count back if it over-admitted (counting
 * only admitted requests); the first request of a window rolls `c` into `p`.
 *
 * Each count also sets `t`, a random name of its own: when its answer is lost
 * and the SDK sends it again, a retry whose condition fails on this very write
 * (nothing written since) takes it as its answer, rather than refusing a
 * request it has counted. The probe also refuses its own name, so its retry
 * never counts twice (unless another count came between the attempts). The
 * steady-state count does not (one term less to parse on every request): its
 * retry may count the request twice, which admits it all the same and makes
 * the limit stricter, by one, for the window. A give-back names itself in `g`,
 * which counts leave alone, and refuses that name: its retry never gives back
 * twice unless another give-back came between the attempts.
 *
 * A hit with a `cost` counts that many at once in the same one write (the read
 * budget counts items read this way): admitted only when all of them fit.
 */
export class DynamoDbRateLimiter implements RateLimiter {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  /** How its 503 names it. */
  readonly #store: string;
  readonly #cacheSize: number;
  /** key → the window whose previous count we know, and that count. */
  readonly #previous = new Map<string, { readonly index: number; readonly count: number }>();

  constructor(options: DynamoDbRateLimiterOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#store = storeLabel('rate-limit store', options.tableName);
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  /** @throws RangeError for a cost that is not a whole number from 1 to the limit (a negative one would free the key) */
  async hit(key: string, rate: RateLimit, nowMs: number, cost = 1): Promise<RateDecision> {
    if (!Number.isInteger(cost) || cost < 1 || cost > rate.limit)
      throw new RangeError(`a rate limiter hit costs a whole number from 1 to the limit (${rate.limit}), not ${cost}`);
    const { index, fraction } = windowAt(nowMs, rate.windowSeconds);
    const expiresAt = Math.ceil(nowMs / 1000) + 2 * rate.windowSeconds + 60;
    const known = this.#previous.get(key);
    if (known?.index === index) {
      const max = admitThreshold(rate.limit, known.count, fraction) - cost;
      const item = await this.#update(key, 'SET c = c + :one, expiresAt = :exp', 'w = :w AND c <= :max', {
        ':one': n(cost),
        ':exp': n(expiresAt),
        ':w': n(index),
        ':max': n(max),
      });
      return item
        ? this.#decision(key, rate, index, fraction, item, true, cost)
        : this.#refused(rate, known.count, fraction, max + cost, cost);
    }
    // First request of this container in this window: the permissive probe, then the roll-overs. The probe refuses its
    // own name: under its loose bound the SDK's retry would count the request again and then refuse it for that count.
    const attempts: Array<[string, string, Record<string, AttributeValue>]> = [
      [
        'SET c = c + :one, expiresAt = :exp',
        'w = :w AND c <= :max AND NOT t = :t',
        { ':one': n(cost), ':exp': n(expiresAt), ':w': n(index), ':max': n(rate.limit - cost) },
      ],
      [
        'SET p = c, c = :one, w = :w, expiresAt = :exp',
        'w = :prev',
        { ':one': n(cost), ':exp': n(expiresAt), ':w': n(index), ':prev': n(index - 1) },
      ],
      [
        'SET p = :zero, c = :one, w = :w, expiresAt = :exp',
        'attribute_not_exists(w) OR w < :prev',
        { ':zero': n(0), ':one': n(cost), ':exp': n(expiresAt), ':w': n(index), ':prev': n(index - 1) },
      ],
      // Another container rolled the window between our attempts: probe once more.
      [
        'SET c = c + :one, expiresAt = :exp',
        'w = :w AND c <= :max AND NOT t = :t',
        { ':one': n(cost), ':exp': n(expiresAt), ':w': n(index), ':max': n(rate.limit - cost) },
      ],
      // The item's window is ahead of this clock (another container's runs ahead, or this one stepped back): count in
      // that window rather than refuse every request until this clock reaches it. Its expiry stays the one set by the
      // clock ahead, which is the later one.
      ['SET c = c + :one', 'w > :w AND c <= :max AND NOT t = :t', { ':one': n(cost), ':w': n(index), ':max': n(rate.limit - cost) }],
    ];
    for (const [update, condition, values] of attempts) {
      const item = await this.#update(key, update, condition, values);
      if (item) return this.#decision(key, rate, index, fraction, item, false, cost);
    }
    // Even with no previous count the window is full.
    return this.#refused(rate, 0, fraction, rate.limit, cost);
  }

  /**
   * Checks an answer against the real threshold; gives back an over-admission. A count made in a window ahead of this
   * clock is checked as at that window's start, where its threshold is strictest.
   */
  async #decision(
    key: string,
    rate: RateLimit,
    ours: number,
    ourFraction: number,
    item: Item,
    exact: boolean,
    cost: number,
  ): Promise<RateDecision> {
    const itemWindow = Number(item.w?.N ?? ours);
    const [index, fraction] = itemWindow > ours ? [itemWindow, 0] : [ours, ourFraction];
    const previous = Number(item.p?.N ?? 0);
    const count = Number(item.c?.N ?? cost);
    this.#remember(key, index, previous);
    const threshold = admitThreshold(rate.limit, previous, fraction);
    if (!exact && count > threshold + 1e-9) {
      await this.#giveBack(key, index, cost);
      return this.#refused(rate, previous, fraction, threshold, cost, count - cost);
    }
    return {
      admitted: true,
      limit: rate.limit,
      windowSeconds: rate.windowSeconds,
      remaining: Math.max(0, Math.floor(threshold - count)),
      retryAfterSeconds: 0,
      undo: () => this.#giveBack(key, index, cost),
    };
  }

  #refused(
    rate: RateLimit,
    previous: number,
    fraction: number,
    threshold: number,
    cost: number,
    current = Math.ceil(threshold),
  ): RateDecision {
    return {
      admitted: false,
      limit: rate.limit,
      windowSeconds: rate.windowSeconds,
      remaining: 0,
      // Until `cost` more fit: as when one more fits under a limit `cost − 1` lower.
      retryAfterSeconds: retryAfterSeconds(rate.limit - cost + 1, previous, Math.max(current, 0), fraction, rate.windowSeconds),
      undo: async () => undefined,
    };
  }

  #remember(key: string, index: number, count: number): void {
    if (this.#previous.size >= this.#cacheSize && !this.#previous.has(key)) {
      const oldest = this.#previous.keys().next().value;
      if (oldest !== undefined) this.#previous.delete(oldest);
    }
    this.#previous.set(key, { index, count });
  }

  async #giveBack(key: string, index: number, cost: number): Promise<void> {
    // Never twice: the SDK's retry of a give-back whose answer was lost finds its own name and changes nothing. In `g`, not
    // `t`: on a busy key, counts come between the attempts of a request that timed out after its write landed.
    await this.#update(key, 'SET c = c - :one', 'w = :w AND c >= :one AND NOT g = :t', { ':one': n(cost), ':w': n(index) }, 'g');
  }

  /**
   * One conditional update, naming itself (`:t`) in `name`; `undefined` when the
   * condition failed (on anything but this update's own first attempt).
   */
  async #update(
    key: string,
    update: string,
    condition: string,
    values: Record<string, AttributeValue>,
    name: 't' | 'g' = 't',
  ): Promise<Item | undefined> {
    const token = randomBytes(9).toString('base64url');
    const Key = { pk: { S: `${RATE_LIMITS_KEYS.counterPrefix}${key}` } };
    try {
      const result = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key,
          UpdateExpression: `${update}, ${name} = :t`,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ...values, ':t': { S: token } },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return result.Attributes ?? {};
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) return translateStoreError(error, this.#store);
      // A first attempt's failure is the answer. After a retry, the item may hold this update (its answer lost):
      // then the item as it stands is what the first attempt would have answered.
      if (!retriedBySdk(error)) return undefined;
      // A read that fails (a role without GetItem) finds nothing of ours: the refusal stands.
      const item = await itemOfFailedCondition(this.#client, this.#tableName, Key, error, this.#store).catch(() => undefined);
      return item?.[name]?.S === token ? item : undefined;
    }
  }
}
