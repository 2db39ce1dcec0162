import { resolveClientAddress } from '../../client-ip.js';
import type { SourceConfig } from '../../config/index.js';
import { HttpError } from '../../errors.js';
import { addressMatcher, parseAddress, type AddressMatcher } from '../../net.js';
import { stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of `ipAllowlist`. */
export interface IpAllowlistOptions {
  /** Sources whose `allowedIps` apply (empty list: any address). */
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Peers whose `X-Forwarded-For` is believed. @default [] (none) */
  readonly trustedProxies?: readonly string[];
}

const defaults: Required<Pick<IpAllowlistOptions, 'trustedProxies'>> = { trustedProxies: [] };

/**
 * Resolves the client address (trusted proxies only) and enforces the source's
 * allowlist: 403 `ip_denied`. A request whose address cannot be determined is
 * refused (400 `forwarded_header_invalid`, or 403 without a peer). Needs
 * `webhookRoute`'s source: without it, or for a source not in `sources`,
 * every request fails (500) rather than skipping the allowlist.
 */
export const ipAllowlist = (opts: IpAllowlistOptions): HttpMiddleware => {
  const options = withDefaults(defaults, opts);
  const trusted = addressMatcher(options.trustedProxies);
  const allowlists = new Map<string, AddressMatcher>();
  for (const [name, source] of options.sources) allowlists.set(name, addressMatcher(source.allowedIps));

  const ipAllowlistBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    // Composed before webhookRoute there is no source, hence no allowlist: refuse, never let every address through.
    if (!state.source) throw new Error('ipAllowlist needs webhookRoute before it');
    const allowlist = allowlists.get(state.source.name);
    if (!allowlist) throw new Error(`ipAllowlist was not given source "${state.source.name}"`);
    const headers = state.headers ?? new Map();
    const sourceIp = request.event.requestContext?.identity?.sourceIp;
    const client = resolveClientAddress(sourceIp, headers, trusted);
    if (!client) {
      // No usable peer (e.g. API Gateway's console test invoke): nothing to allow, fail closed.
      if (typeof sourceIp !== 'string' || !parseAddress(sourceIp)) throw new HttpError(403, 'ip_denied', 'Client address unknown.');
      throw new HttpError(400, 'forwarded_header_invalid', 'X-Forwarded-For is malformed.');
    }
    state.client = client;
    if (allowlist.size > 0 && !allowlist.contains(client.address)) {
      throw new HttpError(403, 'ip_denied', 'This address may not deliver to this endpoint.');
    }
  };
  return { before: ipAllowlistBefore };
};
