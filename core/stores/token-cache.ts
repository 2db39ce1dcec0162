import { hashToken, tokenLive, TOKEN_FORMAT, type TokenRecord, type TokenStore } from './token-store.js';

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  readonly store: TokenStore;
  /** How long a lookup (found or not) is reused. Bounds how late a revocation takes effect. @default 15000 */
  readonly maxAgeMs?: number;
  /** How often one token's `lastUsedAt` is written at most. @default 60000 */
  readonly touchEveryMs?: number;
  /** Lookups remembered at most, of tokens found and, apart, of tokens not found (oldest dropped first). @default 1000 */
  readonly maxEntries?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Told about a failed `lastUsedAt` write (the request goes on). */
  readonly onTouchError?: (error: unknown) => void;
}

/** One answer of the token store, and when it was read. */
interface Lookup {
  readonly record: TokenRecord | undefined;
  readonly loadedAt: number;
}

/**
 * Checks bearer tokens on the request path: a malformed token never reaches the
 * store; a well-formed one is looked up by its hash and the answer (found or
 * not) reused for `maxAgeMs` (15 s), so a revocation or a new token takes
 * effect within 15 s, far inside the promised 30 s. Expiry is checked on every
 * call. A use is recorded at most once a minute per token (best effort).
 */
export class TokenCache {
  readonly #store: TokenStore;
  readonly #maxAgeMs: number;
  readonly #touchEveryMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #onTouchError: (error: unknown) => void;
  /**
   * Lookups by the token's hash, those that found a record apart from those that found none, each map bounded on
   * its own: a flood of made-up tokens (each one lookup, which nothing before the store can refuse) cycles the
   * second and leaves the real tokens' answers cached.
   */
  readonly #found = new Map<string, Lookup>();
  readonly #missing = new Map<string, Lookup>();
  readonly #touched = new Map<string, number>();

  constructor(options: TokenCacheOptions) {
    this.#store = options.store;
    this.#maxAgeMs = options.maxAgeMs ?? 15_000;
    this.#touchEveryMs = options.touchEveryMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#now = options.now ?? Date.now;
    this.#onTouchError = options.onTouchError ?? (() => undefined);
  }

  /** The live record of `token`, or `undefined` when it is unknown, malformed, expired or revoked. */
  async verify(token: string): Promise<TokenRecord | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const { id, hash } = hashToken(token);
    const now = this.#now();
    let entry = this.#found.get(hash) ?? this.#missing.get(hash);
    // A lookup made "in the future" means the clock stepped back: its age is unknown, so it is made again (else a
    // revocation would wait for the step's length, not 15 s).
    if (!entry || now - entry.loadedAt >= this.#maxAgeMs || now < entry.loadedAt) {
      entry = { record: await this.#store.find(id, hash), loadedAt: now };
      this.#found.delete(hash);
      this.#missing.delete(hash);
      const into = entry.record ? this.#found : this.#missing;
      if (into.size >= this.#maxEntries) {
        const oldest = into.keys().next().value;
        if (oldest !== undefined) into.delete(oldest);
      }
      into.set(hash, entry);
    }
    const record = entry.record;
    if (!record || !tokenLive(record, Math.floor(now / 1000))) return undefined;
    const touchedAt = this.#touched.get(id) ?? -Infinity;
    if (now - touchedAt >= this.#touchEveryMs || now < touchedAt) {
      this.#touched.set(id, now);
      if (this.#touched.size > this.#maxEntries) this.#touched.delete(this.#touched.keys().next().value as string);
      this.#store.touch(id, Math.floor(now / 1000)).catch(this.#onTouchError);
    }
    return record;
  }
}
