import { HttpError } from '../../errors.js';
import { countMetric, METRIC, type Telemetry } from '../../telemetry.js';
import { requestIdOf, requireWholeNumbers, stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';
import { clientKeyOf } from '../../net.js';

/** Options of {@link bypassMonitor}. */
export interface BypassMonitorOptions {
  readonly telemetry: Telemetry;
  /** Distinct addresses of one IPv6 /64 within a minute that count as spreading. @default 16 */
  readonly ipv6SpreadThreshold?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

const defaults: Required<Pick<BypassMonitorOptions, 'ipv6SpreadThreshold' | 'now'>> = { ipv6SpreadThreshold: 16, now: Date.now };

/**
 * Counts attempts to get around per-client limits: an `X-Forwarded-For` from a
 * peer that is not a trusted proxy (ignored for identity) and requests spread
 * over many IPv6 addresses of one /64. Each is a security event and a metric;
 * neither rejects the request (the limits key on the real peer and the /64).
 * A request the allowlist refuses (403 `ip_denied`, thrown after it names the
 * client and before this runs) is counted too: a forged `X-Forwarded-For` is
 * most often aimed at the allowlist.
 */
export const bypassMonitor = (opts: BypassMonitorOptions): HttpMiddleware => {
  requireWholeNumbers('bypassMonitor', opts, { ipv6SpreadThreshold: [1, 1_000_000] });
  const options = withDefaults(defaults, opts);
  const { ipv6SpreadThreshold: threshold, now } = options;
  // Per container and per minute: an in-memory view is enough to raise the signal.
  let minute = -1;
  let seen = new Map<string, Set<string>>();

  const report = (request: HttpRequest, code: string, extra: Record<string, unknown>): void => {
    const state = stateOf(request);
    options.telemetry.logger.warn('bypass attempt', {
      securityEvent: { code, source: state.source?.name, clientIp: state.client?.address.ip, requestId: requestIdOf(request), ...extra },
    });
    countMetric(options.telemetry.metrics, METRIC.bypassAttempt, { code });
  };

  const bypassMonitorBefore = async (request: HttpRequest): Promise<void> => {
    const client = stateOf(request).client;
    if (!client) return;
    if (client.untrustedForwardedFor) report(request, 'forwarded_header_untrusted', { peer: client.peer.ip });
    if (client.address.family !== 'ipv6') return;
    const currentMinute = Math.floor(now() / 60_000);
    if (currentMinute !== minute) {
      minute = currentMinute;
      seen = new Map();
    }
    const prefix = clientKeyOf(client.address);
    const addresses = seen.get(prefix) ?? new Set<string>();
    seen.set(prefix, addresses);
    if (addresses.has(client.address.ip) || addresses.size > threshold) return;
    addresses.add(client.address.ip);
    if (addresses.size === threshold) report(request, 'ipv6_spread', { prefix, addresses: threshold });
  };
  // Only `ipAllowlist` throws ip_denied, once the client is known and before this middleware's own turn (or, composed
  // before it, after a turn that had no client to look at): counting here never counts a request twice.
  const bypassMonitorOnError = async (request: HttpRequest): Promise<void> => {
    const error = request.error;
    if (error instanceof HttpError && error.code === 'ip_denied') await bypassMonitorBefore(request);
  };
  return { before: bypassMonitorBefore, onError: bypassMonitorOnError };
};
