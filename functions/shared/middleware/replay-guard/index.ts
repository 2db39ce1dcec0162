import { DeliveryInProgressError, DuplicateDeliveryError } from '../../errors';
import type { SourceConfig } from '../../config';
import type { DeliveryStore } from '../../stores/delivery-store';
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
    const result = await options.store.claim(
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
