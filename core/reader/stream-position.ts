import { createHash } from 'node:crypto';
import { decodeCursor, parseSeq } from '../stores/delivery-feed.js';

/**
 * Where a stream stands, carried in each event's id so that a resumed stream
 * sends neither a delivery twice nor one that became visible late.
 *
 * An id names a window of sort keys, (`lower`, `position`], and the deliveries
 * of that window the client has been sent. The set itself could be thousands
 * of keys, so the id carries a fixed-size digest of it instead: how many, and
 * the first {@link DIGEST_POWERS} power sums of their hashes modulo a prime.
 * On resume the server reads the window again and compares: the deliveries it
 * finds that the digest does not account for are the ones the client has not
 * seen (at most {@link DIGEST_POWERS} of them can be named: the power sums of
 * the missing hashes give the polynomial whose roots they are, by Newton's
 * identities; Minsky and Trachtenberg's set reconciliation).
 */

/** The Mersenne prime 2^61 − 1: the field the power sums are taken in. */
const PRIME = (1n << 61n) - 1n;
/** Power sums carried: the most late deliveries one resume can name. */
export const DIGEST_POWERS = 8;
/** The most deliveries a digest counts (a window is bounded by the look-back, so far fewer in practice). */
const MAX_COUNT = 10_000_000;
const VERSION = 2;

/** A fixed-size summary of a set of sort keys. */
export interface SentDigest {
  readonly count: number;
  /** `sums[j]` = Σ hash^(j+1) mod {@link PRIME}. */
  readonly sums: readonly bigint[];
}

const EMPTY: SentDigest = { count: 0, sums: Array.from({ length: DIGEST_POWERS }, () => 0n) };

/** A stream's position: its window (`lower`, `position`] and what of it was sent. */
export interface StreamPosition {
  /** Exclusive lower bound: nothing at or below it is sent again. */
  readonly lower: string;
  /** The highest sort key sent or passed over by a read cut at its limit (or the opening position). */
  readonly position: string;
  readonly sent: SentDigest;
}

/** The time (epoch milliseconds) of a window bound or position: a delivery's sort key, a `seqCeiling` or a `seqFloor`. */
export const boundMs = (bound: string): number => parseSeq(bound)?.storedAtMs ?? Number(bound.slice(0, 13));

/**
 * How far ahead of this server's clock a position may be and still be resumed as it stands. An id this API
 * gave out names a position at least the settle time behind the clock of the server that gave it; past this
 * allowance the clocks disagree (this one stepped back since) or the id was made up.
 */
export const CLOCK_ALLOWANCE_MS = 1_000;

/**
 * Whether `at` is further ahead of `nowMs` than {@link CLOCK_ALLOWANCE_MS}. Such a position cannot be resumed
 * as it stands: a stream waiting for the clock to reach it would pass over every delivery stored meanwhile
 * (their sort keys are below it), so it starts again from the clock instead (see core/reader/event-stream.ts).
 */
export const aheadOfClock = (at: StreamPosition, nowMs: number): boolean => boundMs(at.position) - nowMs > CLOCK_ALLOWANCE_MS;

/** A new stream's position: nothing sent, nothing at or below `opening` to send. */
export const openingAt = (opening: string): StreamPosition => ({ lower: opening, position: opening, sent: EMPTY });

/** A sort key's hash in [1, PRIME): the first 8 bytes of its SHA-256. */
const hashOf = (seq: string): bigint => {
  const value = createHash('sha256').update(seq, 'utf8').digest().readBigUInt64BE(0) % PRIME;
  return value === 0n ? 1n : value;
};

/** hash^1 … hash^DIGEST_POWERS. */
const powersOf = (hash: bigint): bigint[] => {
  const powers: bigint[] = [];
  let power = 1n;
  for (let j = 0; j < DIGEST_POWERS; j++) powers.push((power = (power * hash) % PRIME));
  return powers;
};

/** x^(PRIME − 2): the inverse of x in the field. */
const inverse = (x: bigint): bigint => {
  let result = 1n;
  let base = x % PRIME;
  for (let e = PRIME - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % PRIME;
    base = (base * base) % PRIME;
  }
  return result;
};

const sameDigest = (a: SentDigest, b: SentDigest): boolean => a.count === b.count && a.sums.every((s, j) => s === b.sums[j]);

/** The sort keys a stream has sent within its window, and their digest, kept up to date as keys come and go. */
export class SentWindow {
  readonly #hashes = new Map<string, bigint>();
  readonly #sums: bigint[] = [...EMPTY.sums];
  /** The keys in ascending order from `#head` on (those before it have left), so that leaving costs one step per key. */
  #order: string[] = [];
  #head = 0;

  has(seq: string): boolean {
    return this.#hashes.has(seq);
  }

  add(seq: string): void {
    if (this.#hashes.has(seq)) return;
    const hash = hashOf(seq);
    this.#hashes.set(seq, hash);
    powersOf(hash).forEach((p, j) => (this.#sums[j] = ((this.#sums[j] as bigint) + p) % PRIME));
    const order = this.#order;
    if (order.length === this.#head || (order[order.length - 1] as string) < seq) order.push(seq);
    else {
      // A late key: rare, and placed by binary search.
      let low = this.#head;
      let high = order.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((order[middle] as string) < seq) low = middle + 1;
        else high = middle;
      }
      order.splice(low, 0, seq);
    }
  }

  /** Forgets every key at or below `lower` (it has left the window). */
  dropUpTo(lower: string): void {
    const order = this.#order;
    while (this.#head < order.length && (order[this.#head] as string) <= lower) {
      const seq = order[this.#head++] as string;
      this.#forget(seq, this.#hashes.get(seq) as bigint);
    }
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      this.#order = order.slice(this.#head);
      this.#head = 0;
    }
  }

  digest(): SentDigest {
    return { count: this.#hashes.size, sums: [...this.#sums] };
  }

  /**
   * The window a client had, given every key now visible in it and the digest
   * its id carries: `undefined` when that cannot be told (more than
   * {@link DIGEST_POWERS} keys unaccounted for, or keys the client had that are
   * no longer visible: expired, or a resume with other sources).
   */
  static restore(visible: readonly string[], had: SentDigest): SentWindow | undefined {
    const window = new SentWindow();
    for (const seq of visible) window.add(seq);
    const missing = window.#hashes.size - had.count;
    if (missing < 0 || missing > DIGEST_POWERS) return undefined;
    if (missing > 0) {
      // Power sums of the missing hashes, then their elementary symmetric polynomials (Newton's identities).
      const t = window.#sums.map((s, j) => (s - (had.sums[j] as bigint) + PRIME) % PRIME);
      const e: bigint[] = [1n];
      for (let m = 1; m <= missing; m++) {
        let acc = 0n;
        for (let i = 1; i <= m; i++) {
          const term = ((e[m - i] as bigint) * (t[i - 1] as bigint)) % PRIME;
          acc = i % 2 === 1 ? (acc + term) % PRIME : (acc - term + PRIME) % PRIME;
        }
        e.push((acc * inverse(BigInt(m))) % PRIME);
      }
      // The missing hashes are the roots of Σ (−1)^m e_m x^(missing − m).
      const isRoot = (x: bigint): boolean => {
        let value = 0n;
        for (let m = 0; m <= missing; m++) {
          const coefficient = m % 2 === 0 ? (e[m] as bigint) : (PRIME - (e[m] as bigint)) % PRIME;
          value = (value * x + coefficient) % PRIME;
        }
        return value === 0n;
      };
      for (const [seq, hash] of [...window.#hashes]) if (isRoot(hash)) window.#forget(seq, hash);
      window.#order = window.#order.filter((seq) => window.#hashes.has(seq));
    }
    // Whatever was named, the rest must be exactly what the client had: every power sum checked.
    return sameDigest(window.digest(), had) ? window : undefined;
  }

  #forget(seq: string, hash: bigint): void {
    this.#hashes.delete(seq);
    powersOf(hash).forEach((p, j) => (this.#sums[j] = ((this.#sums[j] as bigint) - p + PRIME) % PRIME));
  }
}

/** A window bound or position: a delivery's sort key, a stream's opening position (`seqCeiling`) or a `seqFloor`. */
const isBound = (text: unknown): text is string => typeof text === 'string' && (parseSeq(text) !== undefined || /^\d{13}(#~)?$/.test(text));

/** The id an event carries: the position in base64url JSON. */
export const encodeStreamId = (at: StreamPosition): string =>
  Buffer.from(
    JSON.stringify([VERSION, at.lower, at.position, at.sent.count, at.sent.sums.map((s) => s.toString(36)).join('.')]),
    'utf8',
  ).toString('base64url');

/** `DIGEST_POWERS` base-36 numbers joined by dots. */
const SUMS = new RegExp(`^[0-9a-z]{1,13}(\\.[0-9a-z]{1,13}){${DIGEST_POWERS - 1}}$`);

/** The longest id accepted: two sort keys of at most 1,200 characters, JSON-escaped, and the digest. */
const MAX_ID_CHARS = 8_000;

/**
 * The position an id names, or `undefined` when the text is not an id this API
 * gave out. An id of the first version (a bare cursor: the highest key sent)
 * resumes after that key, as it did: an empty window.
 */
export const decodeStreamId = (text: string): StreamPosition | undefined => {
  if (text.length === 0 || text.length > MAX_ID_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const bare = decodeCursor(text);
  if (bare !== undefined) return { lower: bare, position: bare, sent: EMPTY };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 5 || value[0] !== VERSION) return undefined;
  const [, lower, position, count, sums] = value as unknown[];
  if (!isBound(lower) || !isBound(position) || lower > position) return undefined;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > MAX_COUNT) return undefined;
  if (typeof sums !== 'string' || !SUMS.test(sums)) return undefined;
  const parsed = sums.split('.').map((s) => [...s].reduce((acc, c) => acc * 36n + BigInt(parseInt(c, 36)), 0n));
  if (parsed.some((s) => s >= PRIME) || (count === 0 && parsed.some((s) => s !== 0n))) return undefined;
  const at: StreamPosition = { lower, position, sent: { count, sums: parsed } };
  // Only the exact encoding: one id per position.
  return encodeStreamId(at) === text ? at : undefined;
};
