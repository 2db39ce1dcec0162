import { createHash } from 'node:crypto';
import { MAX_BODY_LIMIT } from '../config/rules.js';

/**
 * A body too large for its delivery's item (DynamoDB holds 400 KB an item) is stored in the same table as part
 * items. The delivery's conditional PutItem comes first and names them instead of holding the body (the record is
 * `processing` until they are all written, and no reader reads them before): only the claim that wins writes them.
 *
 * A part's key starts with `~`, which no source name does (`SOURCE_NAME`): no delivery key `source#deliveryId` is
 * ever a part's, and no read of a delivery by source and id reaches one. The rest of the key is the claim's random
 * token (a UUID) and the part's index, so two claims of the same delivery (a copy, a takeover of an expired lease)
 * never write over each other's parts. A part has no `feed` or `seq`, so it never enters the time-ordered index,
 * and no `source`, `status` or `deliveryId`; a consumer of the table's stream skips every item whose `pk` starts
 * with {@link BODY_PART_PREFIX}.
 */
export const BODY_PART_PREFIX = '~part#';

/** DynamoDB's item limit is 400 KB; keep headroom for the other attributes (of the delivery's item, or a part's key). */
export const MAX_STORED_BODY_BYTES = 380_000;

/**
 * The most parts a body is split into: a body within the largest `maxBodyBytes` the configuration accepts
 * (`MAX_BODY_LIMIT`, 10 MiB) compresses to at most a few hundred bytes more than itself (gzip's stored blocks:
 * 5 bytes per 64 KiB), 28 parts. A record naming more than this was not written by this store.
 */
export const MAX_BODY_PARTS = Math.ceil((MAX_BODY_LIMIT + 64 * 1024) / MAX_STORED_BODY_BYTES);

/** The key of part `index` (from 0) of the body the claim `token` wrote. */
export const bodyPartKey = (token: string, index: number): string => `${BODY_PART_PREFIX}${token}#${index}`;

/** Whether an item's key is a body part's, not a delivery's. */
export const isBodyPartKey = (pk: string | undefined): boolean => pk?.startsWith(BODY_PART_PREFIX) === true;

/** The compressed body cut into parts of at most {@link MAX_STORED_BODY_BYTES} bytes. */
export const splitBody = (compressed: Buffer): Buffer[] => {
  const parts: Buffer[] = [];
  for (let at = 0; at < compressed.length; at += MAX_STORED_BODY_BYTES) parts.push(compressed.subarray(at, at + MAX_STORED_BODY_BYTES));
  return parts;
};

/** What a delivery's item keeps of a body stored in parts, to check the bytes put together: SHA-256, base64url. */
export const bodyDigest = (body: Buffer): string => createHash('sha256').update(body).digest('base64url');
