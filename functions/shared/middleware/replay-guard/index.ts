import { DeliveryInProgressError, DuplicateDeliveryError, HttpError } from '../../errors';
import type { SourceConfig } from '../../config';
import { clientKeyOf } from '../../net';
import type { RateLimit } from '../../rate-limit/sliding-window';
import type { ClaimResult, DeliveryStore } from '../../stores/delivery-store';
import type { RateDecision, RateLimiter } from '../../stores/rate-limit-store';
import type { Telemetry } from '../../telemetry';
import { stateOf, type HttpMiddleware, type HttpRequest } from '../types';

/** Options of {@link replayGuard}. */
export interface ReplayGuardOptions {
  readonly store: DeliveryStore;
  /**
   * `store`: the conditional write is the whole job (Hookwarden's own handler).
   * `process`: the record is written `processing` before the wrapped handler runs,
   * completed after it succeeds and removed if it throws, so the provider's retry
   * is processed, never lost.
   * @default 'process'
   */
  readonly mode?: 'store' | 'process';
  /**
   * How long a `processing` record holds off retries before it counts as abandoned.
   * @default the Lambda's remaining time, else 60 seconds
   */
  readonly leaseSeconds?: number;
  /**
   * Counts authenticated deliveries against the source's `rateLimit` and
   * `clientRateLimit`, in parallel with the delivery write (one round trip).
   * Over a limit: 429 `rate_limited`, nothing stored, nothing counted.
   * @default none (no app-level limit)
   */
  readonly rateLimiter?: RateLimiter;
  /** For logging a failed cleanup. */
  readonly telemetry?: Telemetry;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * Stores the verified delivery with one conditional write keyed `source#deliveryId`
 * (the replay guard): a live copy already stored throws {@link DuplicateDeliveryError}
 * (200 duplicate); one still being processed throws {@link DeliveryInProgressError}
 * (409 + Retry-After).
 */
export const replayGuard = (options: ReplayGuardOptions): HttpMiddleware => {
  const mode = options.mode ?? 'process';
  const now = options.now ?? Date.now;

  const leaseFor = (request: HttpRequest): number | undefined => {
    if (mode === 'store') return undefined;
    if (options.leaseSeconds !== undefined) return options.leaseSeconds;
    const remaining = request.context.getRemainingTimeInMillis?.();
    return remaining && remaining > 0 ? Math.ceil(remaining / 1000) + 1 : 60;
  };

  const replayGuardBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    const source = state.source as SourceConfig;
    const delivery = state.delivery;
    if (!delivery) throw new Error('replayGuard needs signatureVerifier before it');
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const headers: Record<string, string> = {};
    for (const name of source.scheme.keptHeaders) {
      const values = state.headers?.get(name);
      if (values && values.length > 0) headers[name] = values.join(', ').slice(0, 1024);
    }
    const eventType = delivery.eventType ?? source.scheme.eventTypeOf?.({ headers: state.headers ?? new Map(), body: state.body ?? Buffer.alloc(0) });
    const leaseSeconds = leaseFor(request);
    const limits = limitsFor(source, state.client ? clientKeyOf(state.client.address) : 'unknown');
    const claiming = options.store.claim(
      {
        source: source.name,
        deliveryId: delivery.deliveryId,
        receivedAt: state.receivedAt ?? nowMs,
        expiresAt: nowSeconds + source.retentionSeconds,
        ...(eventType ? { eventType } : {}),
        headers,
        body: state.body ?? Buffer.alloc(0),
        clientIp: state.client?.address.ip ?? 'unknown',
      },
      leaseSeconds === undefined ? { nowSeconds } : { nowSeconds, leaseSeconds },
    );
    const result = await settle(claiming, options.rateLimiter ? limits.map(({ key, rate }) => (options.rateLimiter as RateLimiter).hit(key, rate, nowMs)) : [], source.name, delivery.deliveryId, options);
    if (result.outcome === 'duplicate') {
      if (result.status === 'stored') throw new DuplicateDeliveryError(delivery.deliveryId);
      throw new DeliveryInProgressError(delivery.deliveryId, Math.max(1, (result.leaseExpiresAt ?? nowSeconds + 1) - nowSeconds));
    }
    state.claim = { token: result.token, deliveryId: delivery.deliveryId };
  };

  const replayGuardAfter = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    if (mode !== 'process' || !state.claim || !state.source) return;
    const claim = state.claim;
    // The handler has done its work: from here on, nothing may remove the record.
    state.claim = undefined;
    try {
      await options.store.complete(state.source.name, claim.deliveryId, claim.token);
    } catch (error) {
      // Answering 5xx now would invite a retry; the record stays `processing` until its lease passes.
      options.telemetry?.logger.error('could not mark delivery processed', { source: state.source.name, deliveryId: claim.deliveryId, error });
    }
  };

  const replayGuardOnError = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    // In `store` mode the delivery is durably stored once claimed: keep it, a retry is a duplicate.
    if (mode !== 'process' || !state.claim || !state.source) return;
    const claim = state.claim;
    state.claim = undefined;
    try {
      await options.store.release(state.source.name, claim.deliveryId, claim.token);
    } catch (error) {
      // The record stays until its lease (or TTL) passes; the sender's retry then succeeds.
      options.telemetry?.logger.error('could not release delivery record', { source: state.source.name, deliveryId: claim.deliveryId, error });
    }
  };

  return { before: replayGuardBefore, after: replayGuardAfter, onError: replayGuardOnError };
};

/** The limits that apply to a delivery of this source from this client, with their keys. */
const limitsFor = (source: SourceConfig, clientKey: string): Array<{ key: string; rate: RateLimit; name: string }> => [
  ...(source.rateLimit ? [{ key: `source:${source.name}`, rate: source.rateLimit, name: 'source' }] : []),
  ...(source.clientRateLimit ? [{ key: `client:${source.name}:${clientKey}`, rate: source.clientRateLimit, name: 'client' }] : []),
];

/**
 * Reconciles the delivery write with the rate-limit writes issued beside it:
 * a refused limit removes a fresh claim; a duplicate or a failure gives
 * admissions back; any store failure fails closed (503).
 */
const settle = async (
  claiming: Promise<ClaimResult>,
  hits: ReadonlyArray<Promise<RateDecision>>,
  sourceName: string,
  deliveryId: string,
  options: ReplayGuardOptions,
): Promise<ClaimResult> => {
  if (hits.length === 0) return claiming;
  const [claim, ...decisions] = await Promise.allSettled([claiming, ...hits]);
  const admitted = decisions.flatMap((d) => (d.status === 'fulfilled' && d.value.admitted ? [d.value] : []));
  const refused = decisions.flatMap((d) => (d.status === 'fulfilled' && !d.value.admitted ? [d.value] : []));
  const failure = [claim, ...decisions].find((d) => d.status === 'rejected') as PromiseRejectedResult | undefined;
  const claimed = claim.status === 'fulfilled' && claim.value.outcome === 'claimed' ? claim.value : undefined;
  const giveBack = () => Promise.allSettled(admitted.map((d) => d.undo()));

  if (failure || refused.length > 0) {
    await giveBack();
    if (claimed) {
      try {
        await options.store.release(sourceName, deliveryId, claimed.token);
      } catch (error) {
        // Left stored: the sender's retry becomes a duplicate, so the delivery is kept, not lost.
        options.telemetry?.logger.error('could not remove a rate-limited delivery', { source: sourceName, deliveryId, error });
      }
    }
    if (failure) throw failure.reason;
    if (claim.status === 'fulfilled' && claim.value.outcome === 'duplicate') return claim.value;
    throw rateLimited(refused);
  }
  const result = (claim as PromiseFulfilledResult<ClaimResult>).value;
  if (result.outcome === 'duplicate') await giveBack();
  return result;
};

/** 429 with `Retry-After` and the IETF draft's `RateLimit-Policy` / `RateLimit` headers for the tightest refusal. */
const rateLimited = (refused: readonly RateDecision[]): HttpError => {
  const worst = [...refused].sort((a, b) => b.retryAfterSeconds - a.retryAfterSeconds)[0] as RateDecision;
  return new HttpError(429, 'rate_limited', 'Too many deliveries; retry later.', {
    headers: {
      'Retry-After': String(worst.retryAfterSeconds),
      'RateLimit-Policy': `"webhooks";q=${worst.limit};w=${worst.windowSeconds}`,
      RateLimit: `"webhooks";r=0;t=${worst.retryAfterSeconds}`,
    },
    details: { limit: worst.limit, windowSeconds: worst.windowSeconds },
  });
};
