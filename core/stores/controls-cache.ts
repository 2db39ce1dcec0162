import { outsideDeadline, untilDeadline } from '../deadline.js';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import { wholeNumberProblem } from '../config/rules.js';
import { addressMatcher, describeInvalidRange, type Address, type AddressMatcher } from '../net.js';
import type { Controls, ControlsStore } from './controls-store.js';

/** Options of {@link ControlsCache}. */
export interface ControlsCacheOptions {
  readonly store: ControlsStore;
  /** How old the cached state may get before a background refresh, in milliseconds (1 to 86,400,000). @default 15000 */
  readonly refreshMs?: number;
  /**
   * The containment bound: a state older than this is never used; the request
   * waits for a fresh read instead (only after an idle period: with traffic the
   * background refresh keeps the state younger). @default 2 × refreshMs (30000)
   */
  readonly maxAgeMs?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Told about a failed background refresh (the last good state stays in use). */
  readonly onRefreshError?: (error: unknown) => void;
}

/** The longest a state may be kept, in milliseconds: a day. */
const MAX_AGE_MS = 86_400_000;

/** The problems of a {@link ControlsCache}'s options, each naming its option. */
const controlsCacheProblems = (options: ControlsCacheOptions): string[] => {
  const given = (options ?? {}) as unknown as Record<string, unknown>;
  const problems: string[] = [];
  const store = given.store as { load?: unknown } | null | undefined;
  if (typeof store !== 'object' || store === null || typeof store.load !== 'function')
    problems.push('ControlsCache store: must be an object with load(), such as a DynamoDbControlsStore');
  for (const name of ['refreshMs', 'maxAgeMs']) {
    const problem = wholeNumberProblem(given[name], 1, MAX_AGE_MS, 'milliseconds');
    if (problem) problems.push(`ControlsCache ${name}: ${problem}`);
  }
  for (const name of ['now', 'onRefreshError'])
    if (given[name] !== undefined && typeof given[name] !== 'function')
      problems.push(`ControlsCache ${name}: must be a function, got a ${typeof given[name]}`);
  return problems;
};

/** The state a request is checked against. */
export interface ControlsSnapshot {
  readonly controls: Controls;
  readonly blocked: AddressMatcher;
  readonly disabled: ReadonlyMap<string, string>;
}

/**
 * Blocklist and source switch as the request path sees them: loaded once per
 * container (the first request waits for it), refreshed in the background when
 * older than `refreshMs` (15 s), and read again before use when older than
 * `maxAgeMs` (30 s). So a block or unblock takes effect within 30 s of the
 * change whatever the traffic, and a steady flow of deliveries (one at least
 * every 15 s) never waits for a read. Expired blocks drop out on their own,
 * even between refreshes.
 */
export class ControlsCache {
  readonly #store: ControlsStore;
  readonly #refreshMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #onRefreshError: (error: unknown) => void;
  #snapshot: ControlsSnapshot | undefined;
  #loadedAt = 0;
  #nextExpiry = Infinity;
  #inFlight: Promise<void> | undefined;

  /**
   * @throws ConfigError naming each option that is not what it must be (from JavaScript without types): a `refreshMs`
   * or `maxAgeMs` of `NaN` compared false with every age, so the state loaded first was used for ever and a block made
   * after it never applied; 0 or `Infinity` made every request 503 or the state never refreshed.
   */
  constructor(options: ControlsCacheOptions) {
    const problems = controlsCacheProblems(options);
    if (problems.length > 0) throw new ConfigError(problems);
    this.#store = options.store;
    this.#refreshMs = options.refreshMs ?? 15_000;
    this.#maxAgeMs = options.maxAgeMs ?? 2 * this.#refreshMs;
    this.#now = options.now ?? Date.now;
    this.#onRefreshError = options.onRefreshError ?? (() => undefined);
  }

  /**
   * The current state, never older than `maxAgeMs`: waits for the first load
   * and for a read after an idle period (a store failure then propagates: fail
   * closed rather than apply a state older than the promise). Concurrent
   * callers share one read, which no caller's deadline aborts; each stops
   * waiting at its own deadline (see untilDeadline, core/deadline.ts): a 503.
   */
  async current(): Promise<ControlsSnapshot> {
    // A refresh already in flight may have started before the bound: check again after it. A state loaded "in the
    // future" means the clock stepped back: its age is unknown, so it is read again (else it would stand for the step).
    for (let attempt = 0; !this.#snapshot || this.#isPastBound(this.#now() - this.#loadedAt); attempt++) {
      if (attempt === 2)
        throw new StoreUnavailableError(new Error('the blocklist read took longer than its bound'), undefined, 'controls store');
      // The read is shared: this request stops waiting at its own deadline, with the 503 its own aborted read gives.
      await untilDeadline(this.#refresh(), (reason) => new StoreUnavailableError(reason, undefined, 'controls store'));
    }
    const now = this.#now();
    if (now - this.#loadedAt >= this.#refreshMs) {
      this.#refresh().catch(this.#onRefreshError);
    }
    if (now / 1000 >= this.#nextExpiry) this.#build((this.#snapshot as ControlsSnapshot).controls);
    return this.#snapshot as ControlsSnapshot;
  }

  #isPastBound(ageMs: number): boolean {
    return ageMs >= this.#maxAgeMs || ageMs < 0;
  }

  /** Whether an address is blocked now. */
  static isBlocked(snapshot: ControlsSnapshot, address: Address): boolean {
    return snapshot.blocked.contains(address);
  }

  #refresh(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    // The state is as new as the moment the (consistent) read was sent, not when it came back.
    const startedAt = this.#now();
    // Shared by every request waiting meanwhile (and the background refresh): not aborted at the deadline of the
    // request that started it, only by the client's own attempt timeouts.
    this.#inFlight = outsideDeadline(() => this.#store.load(Math.floor(startedAt / 1000)))
      .then((controls) => {
        this.#build(controls);
        this.#loadedAt = startedAt;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  #build(controls: Controls): void {
    const nowSeconds = this.#now() / 1000;
    // A malformed entry (written by hand) must not take the request path down: it is skipped.
    const live = controls.blocks.filter((entry) => entry.expiresAt > nowSeconds && describeInvalidRange(entry.range) === undefined);
    this.#nextExpiry = Math.min(Infinity, ...live.map((entry) => entry.expiresAt));
    this.#snapshot = {
      controls: { ...controls, blocks: live },
      blocked: addressMatcher(live.map((entry) => entry.range)),
      disabled: new Map(controls.disabledSources.map((entry) => [entry.source, entry.reason])),
    };
  }
}
