import { HttpError } from '../errors.js';
import { tokenRateLimited } from '../middleware/read-token/index.js';
import type { RateLimit } from '../rate-limit/sliding-window.js';
import type { GetOptions } from '../stores/delivery-store.js';
import type { RateDecision, RateLimiter } from '../stores/rate-limit-store.js';
import { READER_LIMIT_KEYS } from '../stores/tables.js';

/** Read units charged to the shared counter at a time: one stream page (a counter write per 500 units read at most). */
export const READ_BUDGET_CHUNK = 500;

/** A token's read budget is spent: a list answers 429 with it, a stream's opening too; an open stream waits. */
export class ReadBudgetSpentError extends HttpError {
  override readonly name = 'ReadBudgetSpentError';
  /** Seconds until the budget admits more (`Retry-After`). */
  readonly retryAfterSeconds: number;

  constructor(decision: RateDecision, tokenId: string) {
    const refusal = tokenRateLimited(decision, 'reads', tokenId, 'This token has read too much of the deliveries index; retry later.');
    super(refusal.statusCode, refusal.code, refusal.message, { headers: refusal.headers, details: refusal.details });
    this.retryAfterSeconds = decision.retryAfterSeconds;
  }
}

/**
 * What one token's reads draw on, in read units: what a strongly consistent read of each item read costs alone, one per
 * 4 KB of it (core/stores/read-units.ts). An index item (a delivery's summary) is far under 4 KB: one each.
 */
export interface TokenReadBudget {
  /**
   * Up to `wanted` units (at least one) of the token's budget, charged already: read no more than that many index items.
   * @throws ReadBudgetSpentError when none is left
   */
  take(wanted: number): Promise<number>;
  /**
   * Exactly `units` of the token's budget, charged already, for a read that must be whole (a delivery's record, a
   * large body's parts): never less. More than the budget's whole limit is charged as that limit (what a window
   * admits at most), so that such a read is slowed to one a window rather than refused for ever.
   * @throws ReadBudgetSpentError when that much is not left (what this container holds stays for the token's next reads)
   */
  takeWhole(units: number): Promise<void>;
  /** Hands back what a read took and did not read (kept in this container for the token's next read). */
  giveBack(unused: number): void;
  /**
   * The store's hooks for one whole read made of several ({@link GetOptions}: a delivery's record, then a large body's
   * parts): each charged whole before it is made at the most it can cost, as {@link takeWhole} does, and what it did
   * not cost handed back once made, as {@link giveBack} does. Its reads together are charged at most the budget's whole
   * limit (then one unit a read more): a read larger than that is slowed to one a window, never refused for ever.
   */
  wholeRead(): Required<Pick<GetOptions, 'beforeRead' | 'afterRead'>>;
}

/** Options of {@link ReadBudget}. */
export interface ReadBudgetOptions {
  /** The shared counters (the per-token limits' rate limiter). */
  readonly limiter: RateLimiter;
  /** Read units per window (`HOOKWARDEN_READ_BUDGET`). */
  readonly rate: RateLimit;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Tokens whose charged, unread units this container remembers. @default 10000 */
  readonly cacheSize?: number;
}

/** Units charged and not read yet, and when they were charged. */
interface Held {
  items: number;
  chargedAtMs: number;
}

/**
 * The per-token read budget, in read units: one per item of the `byTime` index (each far under 4 KB), and for a single
 * delivery's record and parts, one per 4 KB of each, charged whole at the most each can cost and the rest handed back
 * once read ({@link TokenReadBudget.wholeRead}); counted in items, a 5 MiB body was 15 for some 1,300 units read.
 * Every list, stream and single read of a token reads from one sliding window on the rate limiter (key
 * `read:<token id>`), shared by every container. Units are charged before they are read, a chunk at a time
 * ({@link READ_BUDGET_CHUNK}, or what a read wants when more), and a Query's `Limit` is never more than what was
 * charged: a token reads at most its budget (plus what the sliding window's estimate lets through at a window's edge,
 * as for every limit here). What a chunk leaves unread stays
 * with this container for the token's next read (a chunk and a read's worth at most when its reads come one at a
 * time; reads that overlap in one process, as on the local server, each take their grant before the others give
 * back, so it can reach a chunk and every overlapping read's worth), and is dropped once a window has passed since
 * the token's last charge here (counted, not read: stricter, never looser). Counting costs one counter write per
 * chunk, so a stream that follows live writes once every few hundred polls; a container sends one charge of a token
 * at a time, and reads that arrive meanwhile wait for it and share what it brings.
 */
export class ReadBudget {
  readonly #limiter: RateLimiter;
  readonly #rate: RateLimit;
  readonly #now: () => number;
  readonly #cacheSize: number;
  readonly #chunk: number;
  readonly #held = new Map<string, Held>();
  /** The charge of each token this container is waiting for (settled either way), at most one a token. */
  readonly #charging = new Map<string, Promise<void>>();

  constructor(options: ReadBudgetOptions) {
    this.#limiter = options.limiter;
    this.#rate = options.rate;
    this.#now = options.now ?? Date.now;
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#chunk = Math.min(READ_BUDGET_CHUNK, options.rate.limit);
  }

  /** The budget of one token. */
  forToken(tokenId: string): TokenReadBudget {
    return {
      take: (wanted) => this.#take(tokenId, wanted, false),
      takeWhole: async (units) => {
        await this.#take(tokenId, Math.min(units, this.#rate.limit), true);
      },
      giveBack: (unused) => {
        if (unused > 0) this.#heldBy(tokenId).items += unused;
      },
      wholeRead: () => this.#wholeRead(tokenId),
    };
  }

  /** See {@link TokenReadBudget.wholeRead}. */
  #wholeRead(tokenId: string): Required<Pick<GetOptions, 'beforeRead' | 'afterRead'>> {
    // What this read's reads were charged and kept, and what the one being made was charged.
    let kept = 0;
    let charged = 0;
    return {
      beforeRead: async (units) => {
        charged = Math.max(1, Math.min(Math.floor(units), this.#rate.limit - kept));
        // Its parts after its record: a second chunk would not fit a budget under two (the first's rest held here), and
        // a body of six parts or more was refused for ever under budgets from 500 to about 1,000 units. Exactly what
        // is missing instead, when the chunk is refused (the first read's refusal stays one counter write).
        await this.#take(tokenId, charged, true, kept > 0);
        kept += charged;
      },
      afterRead: (units) => {
        const unused = Math.max(0, charged - units);
        charged = 0;
        kept -= unused;
        if (unused > 0) this.#heldBy(tokenId).items += unused;
      },
    };
  }

  /** What this container holds for the token, dropped once a window has passed since its last charge. */
  #heldBy(tokenId: string): Held {
    let held = this.#held.get(tokenId);
    if (held && this.#now() - held.chargedAtMs >= this.#rate.windowSeconds * 1000) held.items = 0;
    if (!held) {
      if (this.#held.size >= this.#cacheSize) {
        const oldest = this.#held.keys().next().value;
        if (oldest !== undefined) this.#held.delete(oldest);
      }
      held = { items: 0, chargedAtMs: this.#now() };
      this.#held.set(tokenId, held);
    }
    return held;
  }

  /**
   * Up to `wanted` units, or with `whole` exactly `wanted` (see {@link TokenReadBudget}); with `exactWhenRefused`, a
   * chunk refused is charged again as exactly what is missing (a whole read's later reads: see {@link #wholeRead}).
   */
  async #take(tokenId: string, wanted: number, whole: boolean, exactWhenRefused = false): Promise<number> {
    const want = Math.max(1, Math.floor(wanted));
    let exact = false;
    // Another read of the same token in this container may take what a charge brought before this one uses it.
    for (let charges = 0; ;) {
      const held = this.#heldBy(tokenId);
      if (held.items >= want || (!whole && held.items > 0 && charges > 0)) {
        const granted = Math.min(want, held.items);
        held.items -= granted;
        return granted;
      }
      // One charge of a token at a time in this container: reads that arrive together wait for it and share the chunk
      // it brings. Each charged a chunk of its own: 40 GETs sent at once charged 20,000 items for 40 read, and under
      // a budget of 3,000 all but six were refused.
      const inFlight = this.#charging.get(tokenId);
      if (inFlight) {
        await inFlight;
        continue;
      }
      const cost = exact ? want - held.items : Math.min(this.#rate.limit, Math.max(this.#chunk, want - held.items));
      const charge = this.#limiter.hit(`${READER_LIMIT_KEYS.read}${tokenId}`, this.#rate, this.#now(), cost);
      const settled = charge.then(
        () => undefined,
        () => undefined,
      );
      this.#charging.set(tokenId, settled);
      let decision: RateDecision;
      try {
        decision = await charge;
      } finally {
        if (this.#charging.get(tokenId) === settled) this.#charging.delete(tokenId);
      }
      charges++;
      const after = this.#heldBy(tokenId);
      if (decision.admitted) {
        after.items += cost;
        after.chargedAtMs = this.#now();
      } else if (!whole && after.items > 0) {
        // Less than wanted is left here: read that much.
        const granted = Math.min(want, after.items);
        after.items -= granted;
        return granted;
      } else if (exactWhenRefused && !exact && want - after.items > 0 && want - after.items < cost) exact = true;
      else throw new ReadBudgetSpentError(decision, tokenId);
    }
  }
}
