import { outsideDeadline } from '../../deadline.js';
import type { DeliveryStore } from '../../stores/delivery-store.js';
import type { Telemetry } from '../../telemetry.js';

/** A delivery this invocation holds while its wrapped handler runs: the claim's token and its lease as last written. */
export interface HeldLease {
  readonly token: string;
  /** Epoch seconds: the claim's lease, moved on by each renewal. */
  readonly leaseExpiresAt: number;
  /** Stops renewing (the handler has settled; complete or release follows). */
  stop(): void;
}

/** Options of {@link keepLease}. */
export interface KeepLeaseOptions {
  readonly store: DeliveryStore;
  readonly source: string;
  readonly deliveryId: string;
  readonly token: string;
  /** The lease the claim was given: each renewal moves it this far past now. */
  readonly leaseSeconds: number;
  /** The claim's lease, epoch seconds. */
  readonly leaseExpiresAt: number;
  /** Clock, epoch milliseconds. */
  readonly now: () => number;
  /** `false` when the lease is only tracked, not renewed (Lambda, which ends the handler at its timeout). */
  readonly renew: boolean;
  readonly telemetry?: Telemetry;
}

/** The longest period a Node timer keeps: past it Node warns and fires every millisecond instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How often a lease of `leaseSeconds` is renewed: a third of it, at least a second, and at most what a timer keeps. A
 * lease of 75 days or more (a `leaseSeconds` meant as "never take over") made the period overflow, and Node renewed it
 * every millisecond, one write after another for as long as the handler ran.
 */
const renewalPeriodMs = (leaseSeconds: number): number => Math.min(MAX_TIMER_MS, Math.max(1_000, (leaseSeconds * 1000) / 3));

/**
 * Tracks a claim's lease and, where the runtime lets a handler run on past its timeout (`renew`), keeps it alive
 * while the handler runs: every third of the lease, one token-conditioned write moves it a whole lease past now, so a
 * retry never takes over a delivery whose handler still runs. The timer is unref'd (it never keeps the process up),
 * renewals never overlap, and it stops when the handler settles, when the token no longer holds the record, or at
 * {@link HeldLease.stop}. A store without `renew` is never renewed (the in-process check still holds retries off).
 */
export const keepLease = (options: KeepLeaseOptions): HeldLease => {
  const { store, source, deliveryId, token, leaseSeconds, now } = options;
  let leaseExpiresAt = options.leaseExpiresAt;
  let timer: NodeJS.Timeout | undefined;
  let renewing = false;
  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
  };
  const claimedLease = options.leaseExpiresAt;
  const claimedAt = performance.now();
  const renewLease = async (): Promise<void> => {
    if (renewing || !store.renew) return;
    renewing = true;
    // A lease a whole lease past now, by the wall clock and, in case it stepped back since the claim, by the time that
    // has passed since (monotonic): before, a clock set back a minute wrote a lease a minute shorter than the one held.
    const elapsedSeconds = Math.floor((performance.now() - claimedAt) / 1000);
    const next = Math.max(Math.floor(now() / 1000) + leaseSeconds, claimedLease + elapsedSeconds);
    try {
      if (await store.renew(source, deliveryId, token, next)) leaseExpiresAt = Math.max(leaseExpiresAt, next);
      // Taken over or gone: nothing of this claim's to renew. Its complete (or release) reports it.
      else stop();
    } catch (error) {
      // The next tick tries again; the lease still holds for the rest of its time.
      options.telemetry?.logger.warn('could not renew delivery lease', { source, deliveryId, leaseExpiresAt, error });
    } finally {
      renewing = false;
    }
  };
  if (options.renew && store.renew) {
    // Outside the request's deadline: a renewal is no call of the request's, and must carry no signal of its.
    timer = outsideDeadline(() => setInterval(() => void renewLease(), renewalPeriodMs(leaseSeconds)));
    timer.unref();
  }
  return {
    token,
    get leaseExpiresAt() {
      return leaseExpiresAt;
    },
    stop,
  };
};
