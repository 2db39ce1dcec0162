import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MAX_STORED_BODY_BYTES } from './body-parts.js';

/** What one read unit reads: a strongly consistent read of an item bills one unit per 4 KB of it, rounded up. */
export const READ_UNIT_BYTES = 4096;

/** The read units a strongly consistent read of an item of `bytes` costs: one at least (a read of nothing costs one too). */
export const readUnitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));

/** The most an item can cost: DynamoDB holds 400 KB an item, so a read whose item is not known yet is charged this. */
export const MAX_ITEM_READ_UNITS = readUnitsOf(400 * 1024);

/**
 * The most a body part's item can cost: its bytes ({@link MAX_STORED_BODY_BYTES} at most) and its key (`~part#`, the
 * claim's UUID and the index), expiry and attribute names, under 100 bytes: 93 units.
 */
export const MAX_PART_READ_UNITS = readUnitsOf(MAX_STORED_BODY_BYTES + 512);

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * A value's size as DynamoDB counts it, never less: a number at one byte a character and one more (DynamoDB: one a
 * two significant digits and one), a map or list 3 bytes and one an element.
 */
const valueBytes = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return value.N.length + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + n.length + 1, 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueBytes(v), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  return 1;
};

/** An item's size as DynamoDB bills its read: each attribute's name and value. */
export const itemBytes = (item: Record<string, AttributeValue>): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);

/**
 * The read units a strongly consistent GetItem of `item` cost (one for no item).
 * @example itemReadUnits({ pk: { S: 'a' }, part: { B: new Uint8Array(380_000) } }) // 93
 */
export const itemReadUnits = (item: Record<string, AttributeValue> | undefined): number => readUnitsOf(item ? itemBytes(item) : 0);
