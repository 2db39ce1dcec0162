import { HttpError } from '../../errors.js';
import { ControlsCache } from '../../stores/controls-cache.js';
import { requireWholeNumbers, stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link containment}. */
export interface ContainmentOptions {
  readonly controls: ControlsCache;
  /** `Retry-After` for a disabled source, seconds. @default 300 */
  readonly disabledRetryAfterSeconds?: number;
}

const defaults: Required<Pick<ContainmentOptions, 'disabledRetryAfterSeconds'>> = { disabledRetryAfterSeconds: 300 };

/**
 * Incident containment from the command line: a disabled source answers 503
 * `source_disabled` with `Retry-After` (providers retry later instead of
 * dropping deliveries); a blocked client answers 403 `ip_blocked`. Reads a
 * cached state (no round trip per request; changes apply within 30 s). Needs
 * the source and client that `webhookRoute` and `ipAllowlist` set:
 * without them every request fails (500) rather than skipping the checks.
 */
export const containment = (opts: ContainmentOptions): HttpMiddleware => {
  requireWholeNumbers('containment', opts, { disabledRetryAfterSeconds: [1, 86_400] });
  const options = withDefaults(defaults, opts);
  const retryAfter = String(options.disabledRetryAfterSeconds);
  const containmentBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    // Composed before them, the switch and the blocklist would be skipped for every request: refuse instead.
    if (!state.source) throw new Error('containment needs webhookRoute before it');
    if (!state.client) throw new Error('containment needs ipAllowlist before it');
    const snapshot = await options.controls.current();
    if (snapshot.disabled.has(state.source.name)) {
      throw new HttpError(503, 'source_disabled', 'This webhook source is temporarily disabled; retry later.', {
        expose: true,
        headers: { 'Retry-After': retryAfter },
      });
    }
    if (ControlsCache.isBlocked(snapshot, state.client.address)) {
      throw new HttpError(403, 'ip_blocked', 'This address is blocked.');
    }
  };
  return { before: containmentBefore };
};
