import { hashToken, tokenLive, TOKEN_FORMAT, type TokenRecord, type TokenStore } from './token-store.js';

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  readonly store: TokenStore;
  /** How long a lookup (found or not) is reused. Bounds how late a revocation takes effect. @default 15000 */
  readonly maxAgeMs?: number;
  /** How often one token's `lastUsedAt` is written at most. @default 60000 */
  readonly touchEveryMs?: number;
  /** Lookups remembered at most (oldest dropped first). @default 1000 */
  readonly maxEntries?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Told about a failed `lastUsedAt` write (the request goes on). */
  readonly onTouchError?: (error: unknown) => void;
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
  readonly #entries = new Map<string, { readonly record: TokenRecord | undefined; readonly loadedAt: number }>();
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
    let entry = this.#entries.get(hash);
    // A lookup made "in the future" means the clock stepped back: its age is unknown, so it is made again (else a
    // revocation would wait for the step's length, not 15 s).
    if (!entry || now - entry.loadedAt >= this.#maxAgeMs || now < entry.loadedAt) {
      entry = { record: await this.#store.find(id, hash), loadedAt: now };
      this.#entries.delete(hash);
      if (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      this.#entries.set(hash, entry);
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
