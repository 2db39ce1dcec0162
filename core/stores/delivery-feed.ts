import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { translateStoreError } from './dynamodb-errors.js';
import { DELIVERIES_BY_TIME } from './tables.js';

/** The one value of the index partition key `feed`. */
export const FEED = 'all';

const MS_DIGITS = 13;
const SEQ = /^(\d{13})#([a-z0-9][a-z0-9_-]{0,62})#([\s\S]+)$/;
/** A position between deliveries: after everything stored up to that millisecond ({@link seqCeiling}). */
const OPENING = /^\d{13}#~$/;
/** Longest cursor text accepted (a delivery id is at most a few hundred characters). */
const MAX_SEQ_CHARS = 1200;

/**
 * The index sort key of a delivery stored at `storedAtMs`:
 * `<13-digit epoch ms>#<source>#<deliveryId>`. Unique (the id is the item's
 * key) and ordered by store time, ties broken by source and id.
 */
export const seqOf = (storedAtMs: number, source: string, deliveryId: string): string =>
  `${String(Math.max(0, Math.floor(storedAtMs))).padStart(MS_DIGITS, '0')}#${source}#${deliveryId}`;

/** The lowest sort key at `ms`: every delivery stored at or after `ms` sorts after it. */
export const seqFloor = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(MS_DIGITS, '0');
/** The highest sort key at `ms`: every delivery stored at `ms` or before sorts before it. */
export const seqCeiling = (ms: number): string => `${seqFloor(ms)}#~`;

/** A sort key's parts, or `undefined` when it is not one. */
export const parseSeq = (
  seq: string,
): { readonly storedAtMs: number; readonly source: string; readonly deliveryId: string } | undefined => {
  if (seq.length > MAX_SEQ_CHARS) return undefined;
  const match = SEQ.exec(seq);
  if (!match) return undefined;
  return { storedAtMs: Number(match[1]), source: match[2] as string, deliveryId: match[3] as string };
};

/** The latest time a JavaScript `Date` holds, epoch milliseconds. */
const LAST_DATE_MS = 8.64e15;

/**
 * A stored time (epoch milliseconds) a `Date` can show, else `undefined`. The writers only store `Date.now()`, but
 * DynamoDB takes any number of up to 38 digits: one item edited by hand to a time past the year 275760 made
 * `toISOString` throw for every list page and every event stream that reached it.
 */
export const storedTimeMs = (attribute: AttributeValue | undefined): number | undefined => {
  const ms = Number(attribute?.N ?? Number.NaN);
  return ms >= 0 && ms <= LAST_DATE_MS ? ms : undefined;
};

/** The last millisecond a sort key's 13 digits name. */
const LAST_MS = 10 ** MS_DIGITS - 1;

/**
 * The millisecond bound nearest a key that is no sort key this version writes (an item's `seq` edited by hand, or
 * written otherwise), passing over no delivery on the side still to read: reading down, the end of the last millisecond
 * whose keys can sort below it; reading up, the start of the first millisecond whose keys can sort above it.
 * `undefined` when no sort key can be on that side. A cursor or event id naming the key itself is refused by
 * {@link decodeCursor} and `decodeStreamId`: a consumer handed one was stuck on a 400.
 */
const boundAround = (seq: string, reading: 'up' | 'down'): string | undefined => {
  // Binary search on the millisecond: `seqFloor` and `seqCeiling` rise with it.
  if (reading === 'down') {
    if (seqFloor(0) >= seq) return undefined;
    let low = 0;
    let high = LAST_MS;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (seqFloor(middle) < seq) low = middle;
      else high = middle - 1;
    }
    return seqCeiling(low);
  }
  if (seqCeiling(LAST_MS) <= seq) return undefined;
  let low = 0;
  let high = LAST_MS;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (seqCeiling(middle) > seq) high = middle;
    else low = middle + 1;
  }
  return seqFloor(low);
};

/**
 * A bound to hand a client after a read cut at a sort key `seq`: `seq` itself when it is a delivery of `sources` (or
 * `sources` is empty: every source), else the millisecond it was stored in, at its start when reading up (everything
 * after it is read again) or its end when reading down. A cursor or event id is base64url, not sealed: the exact key of
 * a delivery another source received would tell a token scoped away from that source its name, the delivery's id and
 * when it came. What the coarser bound makes the next read see again is that millisecond's deliveries, already seen.
 * A key that is not a sort key gets the millisecond bound next to it ({@link boundAround}), `undefined` when nothing
 * can be read past it.
 */
export const boundWithin = (seq: string, sources: readonly string[], reading: 'up' | 'down'): string | undefined => {
  const parsed = parseSeq(seq);
  if (parsed === undefined) return boundAround(seq, reading);
  if (sources.length === 0 || sources.includes(parsed.source)) return seq;
  return reading === 'up' ? seqFloor(parsed.storedAtMs) : seqCeiling(parsed.storedAtMs);
};

/** An opaque cursor: the sort key in base64url. */
export const encodeCursor = (seq: string): string => Buffer.from(seq, 'utf8').toString('base64url');

/** The sort key a cursor names, or `undefined` when the text is not a cursor this API gave out. */
export const decodeCursor = (cursor: string): string | undefined => {
  if (cursor.length === 0 || cursor.length > 2 * MAX_SEQ_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const seq = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only the exact encoding of a well-formed key (or of a stream's opening position,
  // `seqCeiling`): no padding tricks, no invalid UTF-8.
  return (parseSeq(seq) || OPENING.test(seq)) && encodeCursor(seq) === cursor ? seq : undefined;
};

/** One delivery as the index holds it: no body, no headers. */
export interface FeedEntry {
  readonly seq: string;
  readonly source: string;
  readonly deliveryId: string;
  readonly providerId?: string;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
  readonly eventType?: string;
  /** Body bytes. */
  readonly size: number;
}

/** Which deliveries a query returns. */
export interface FeedFilter {
  /** Only these sources (empty or absent: every source). */
  readonly sources?: readonly string[];
  /** Now, epoch seconds: expired deliveries are left out. */
  readonly nowSeconds: number;
}

/** A page of the feed and where the next one starts (a sort key), if anywhere. */
export interface FeedPage {
  readonly entries: readonly FeedEntry[];
  readonly next?: string;
  /**
   * Index items read for it: what DynamoDB evaluated (`ScannedCount`, other sources' and expired ones included: a
   * filter costs the items read), and at least one per Query (an empty one is billed too). Never more than the
   * `limit` or `maxItems` asked: the read budget (core/reader/read-budget.ts) counts in these.
   */
  readonly read: number;
}

/** Reads deliveries in store order from the time-ordered index. */
export interface DeliveryFeed {
  /**
   * Newest first, strictly before `before` when given: at most `limit` entries, reading at most `maxItems` items of
   * the index (then `next` says where to go on, as when its ten pages are read; at least `limit` is best).
   */
  newest(filter: FeedFilter & { readonly limit: number; readonly before?: string; readonly maxItems?: number }): Promise<FeedPage>;
  /**
   * Oldest first, with sort keys strictly after `after` and at most `upTo`: one
   * Query of at most `limit` items (before filtering); `next` when more remain.
   */
  between(filter: FeedFilter & { readonly after: string; readonly upTo: string; readonly limit: number }): Promise<FeedPage>;
}

type Item = Record<string, AttributeValue>;

const fromItem = (item: Item): FeedEntry => ({
  seq: item.seq?.S ?? '',
  source: item.source?.S ?? '',
  deliveryId: item.deliveryId?.S ?? '',
  ...(item.providerId?.S ? { providerId: item.providerId.S } : {}),
  // A time no Date can show is the time the sort key says it was stored.
  receivedAt: storedTimeMs(item.receivedAt) ?? parseSeq(item.seq?.S ?? '')?.storedAtMs ?? 0,
  ...(item.eventType?.S ? { eventType: item.eventType.S } : {}),
  size: Number(item.bodyBytes?.N ?? 0),
});

/** The most values one DynamoDB `IN` takes. */
export const IN_VALUES_MAX = 100;

/**
 * The most sources a read's filter names in DynamoDB. The filter lists each (`:s0` … `:s499`, in `IN`s of a hundred
 * joined by `OR`), and DynamoDB refuses an expression string over 4 KB (4,096 bytes; "Constraints in Amazon DynamoDB",
 * expression parameters): with 500 sources it takes 3,484 bytes, with 586 it is over. A token names at most
 * this many (`hookwarden token create` refuses more); a longer list (a token item written otherwise) is filtered in
 * code instead, on the same items: never wider.
 */
export const FILTER_SOURCES_MAX = 500;

/** Items a `newest` page reads at least after its first, when the filter keeps few of them. */
const FILTERED_PAGE_ITEMS = 100;

/** Pages one `newest` call reads at most, so a rare source among many others cannot make one request scan the index. */
const MAX_PAGES = 10;

/** Index items one `newest` call of `limit` entries reads at most (every page, each of a hundred or more after the first). */
export const newestReadsAtMost = (limit: number): number => limit + (MAX_PAGES - 1) * Math.max(limit, FILTERED_PAGE_ITEMS);

/**
 * The feed on the deliveries table's `byTime` index: one partition (`feed`),
 * sorted by `seq`. Expired deliveries and other sources are filtered out
 * after the read (a filter costs the items read, not the items returned).
 */
export class DynamoDbDeliveryFeed implements DeliveryFeed {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(options: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async newest(options: FeedFilter & { readonly limit: number; readonly before?: string; readonly maxItems?: number }): Promise<FeedPage> {
    const entries: FeedEntry[] = [];
    const range = options.before === undefined ? undefined : { condition: 'seq < :before', values: { ':before': { S: options.before } } };
    const maxItems = Math.max(1, options.maxItems ?? Infinity);
    let start: Item | undefined;
    let read = 0;
    for (let page = 0; page < MAX_PAGES && read < maxItems; page++) {
      const wanted = options.limit - entries.length;
      const result = await this.#query(options, range, {
        ScanIndexForward: false,
        // Once the filter has thinned a page, read at least a hundred at a time: a page cut among other sources' deliveries
        // then lands past a burst of them in one millisecond, which its cursor must not name (#nextBefore). Never past
        // what the caller may read.
        Limit: Math.min(page === 0 ? wanted : Math.max(wanted, FILTERED_PAGE_ITEMS), maxItems - read),
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      read += result.read;
      entries.push(...result.entries);
      start = result.last;
      if (entries.length > options.limit) {
        entries.length = options.limit;
        return { entries, next: (entries[entries.length - 1] as FeedEntry).seq, read };
      }
      if (!start) return { entries, read };
      if (entries.length >= options.limit) return { entries, next: (entries[entries.length - 1] as FeedEntry).seq, read };
    }
    const next = this.#nextBefore(start?.seq?.S as string, entries, options, read >= maxItems);
    return next === undefined ? { entries, read } : { entries, next, read };
  }

  /**
   * Where the next page of a `newest` cut at `last` (the last key read, maybe another source's) starts: a bound that
   * names no other source's delivery ({@link boundWithin}), no higher than the oldest entry this page returned (so
   * that none is listed twice). One that would not move below `before` (more deliveries of other sources in one
   * millisecond than a request reads) is `last` itself when it is a delivery of `sources`, or a client following `next`
   * would read the same page for ever. Another source's is never handed out (a cursor is not sealed): a page the read
   * budget cut (`cut`) gives back `before`, read on once the budget grants more; one cut at its ten pages goes on below
   * that millisecond, as for a key that is no sort key.
   */
  #nextBefore(
    last: string,
    entries: readonly FeedEntry[],
    options: FeedFilter & { readonly before?: string },
    cut: boolean,
  ): string | undefined {
    let bound = boundWithin(last, options.sources ?? [], 'down');
    // A key no sort key can sort below: nothing is left to read.
    if (bound === undefined) return undefined;
    const oldest = entries[entries.length - 1]?.seq;
    if (oldest !== undefined && oldest < bound) bound = oldest;
    if (options.before === undefined || bound < options.before) return bound;
    if (parseSeq(last) && boundWithin(last, options.sources ?? [], 'down') === last) return last;
    // Held to a few items by the read budget among other sources' deliveries of that millisecond: the same page again,
    // never a key of theirs, and nothing passed over.
    if (cut) return options.before;
    // `last` is no sort key, or another source's (a cursor may not name either), and in the millisecond `before` is in: the next page starts below
    // that millisecond, passing over what of it sorts below `last`, or this page would be read again for ever.
    const ms = Number(bound.slice(0, MS_DIGITS));
    return ms > 0 ? seqCeiling(ms - 1) : undefined;
  }

  async between(options: FeedFilter & { readonly after: string; readonly upTo: string; readonly limit: number }): Promise<FeedPage> {
    if (options.after >= options.upTo) return { entries: [], read: 0 };
    // BETWEEN is inclusive: the entry at `after` itself (already seen) is dropped here.
    const range = { condition: 'seq BETWEEN :after AND :upTo', values: { ':after': { S: options.after }, ':upTo': { S: options.upTo } } };
    const result = await this.#query(options, range, { ScanIndexForward: true, Limit: options.limit });
    return {
      entries: result.entries.filter((e) => e.seq !== options.after),
      ...(result.last?.seq?.S ? { next: result.last.seq.S } : {}),
      read: result.read,
    };
  }

  async #query(
    filter: FeedFilter,
    range: { readonly condition: string; readonly values: Record<string, AttributeValue> } | undefined,
    page: { ScanIndexForward: boolean; Limit: number; ExclusiveStartKey?: Item },
  ): Promise<{ entries: FeedEntry[]; last?: Item; read: number }> {
    const values: Record<string, AttributeValue> = { ':feed': { S: FEED }, ':now': { N: String(filter.nowSeconds) }, ...range?.values };
    const conditions = ['expiresAt > :now'];
    const sources = filter.sources ?? [];
    // Past what one expression can name, every source's items are read and the token's kept here: before, such a
    // token's every list and stream was a ValidationException on AWS (a 500), which dynalite does not raise.
    const kept = sources.length > FILTER_SOURCES_MAX ? new Set(sources) : undefined;
    if (sources.length > 0 && kept === undefined) {
      sources.forEach((source, i) => (values[`:s${i}`] = { S: source }));
      // DynamoDB's IN takes 100 values at most (more is a ValidationException, which dynalite does not raise): a token
      // scoped to more sources would get a 500 for every list and stream. One IN per hundred, joined by OR.
      const groups: string[] = [];
      for (let at = 0; at < sources.length; at += IN_VALUES_MAX)
        groups.push(
          `#source IN (${sources
            .slice(at, at + IN_VALUES_MAX)
            .map((_, i) => `:s${at + i}`)
            .join(', ')})`,
        );
      conditions.push(groups.length === 1 ? (groups[0] as string) : `(${groups.join(' OR ')})`);
    }
    const key = range ? `feed = :feed AND ${range.condition}` : 'feed = :feed';
    try {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: DELIVERIES_BY_TIME.name,
          KeyConditionExpression: key,
          FilterExpression: conditions.join(' AND '),
          ExpressionAttributeValues: values,
          ...(sources.length > 0 && kept === undefined ? { ExpressionAttributeNames: { '#source': 'source' } } : {}),
          ...page,
        }),
      );
      // An item whose sort key is not one this version writes is left out of every list and stream, as if of another
      // source: a cursor or event id at it would be refused (400), and the page after it could not be asked for.
      const entries = (result.Items ?? [])
        .map(fromItem)
        .filter((entry) => (kept === undefined || kept.has(entry.source)) && parseSeq(entry.seq) !== undefined);
      return {
        entries,
        ...(result.LastEvaluatedKey ? { last: result.LastEvaluatedKey } : {}),
        // Not past the Limit, whatever an answer says: the budget granted that much.
        read: Math.min(page.Limit, Math.max(1, result.ScannedCount ?? result.Items?.length ?? 0)),
      };
    } catch (error) {
      return translateStoreError(error);
    }
  }
}
