import { addressMatcher, describeInvalidRange, type Address, type AddressMatcher } from '../net';
import type { Controls, ControlsStore } from './controls-store';

/** Options of {@link ControlsCache}. */
export interface ControlsCacheOptions {
  readonly store: ControlsStore;
  /** How old the cached state may get before a background refresh. @default 15000 */
  readonly refreshMs?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Told about a failed background refresh (the last good state stays in use). */
  readonly onRefreshError?: (error: unknown) => void;
}

/** The state a request is checked against. */
export interface ControlsSnapshot {
  readonly controls: Controls;
  readonly blocked: AddressMatcher;
  readonly disabled: ReadonlyMap<string, string>;
}

/**
 * Blocklist and source switch as the request path sees them: loaded once per
 * container (the first request waits for it), then refreshed in the background
 * when older than `refreshMs` (15 s), so a block or unblock takes effect within
 * 30 s and never adds a round trip to a delivery. Expired blocks drop out on
 * their own, even between refreshes.
 */
export class ControlsCache {
  readonly #store: ControlsStore;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #onRefreshError: (error: unknown) => void;
  #snapshot: ControlsSnapshot | undefined;
  #loadedAt = 0;
  #nextExpiry = Infinity;
  #inFlight: Promise<void> | undefined;

  constructor(options: ControlsCacheOptions) {
    this.#store = options.store;
    this.#refreshMs = options.refreshMs ?? 15_000;
    this.#now = options.now ?? Date.now;
    this.#onRefreshError = options.onRefreshError ?? (() => undefined);
  }

  /** The current state; waits only for the very first load. */
  async current(): Promise<ControlsSnapshot> {
    if (!this.#snapshot) await this.#refresh();
    const now = this.#now();
    if (now - this.#loadedAt >= this.#refreshMs) {
      this.#refresh().catch(this.#onRefreshError);
    }
    if (now / 1000 >= this.#nextExpiry) this.#build((this.#snapshot as ControlsSnapshot).controls);
    return this.#snapshot as ControlsSnapshot;
  }

  /** Whether an address is blocked now. */
  static isBlocked(snapshot: ControlsSnapshot, address: Address): boolean {
    return snapshot.blocked.contains(address);
  }

  #refresh(): Promise<void> {
    this.#inFlight ??= this.#store
      .load(Math.floor(this.#now() / 1000))
      .then((controls) => {
        this.#build(controls);
        this.#loadedAt = this.#now();
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
