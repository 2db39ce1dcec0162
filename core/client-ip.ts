import type { HeaderMap } from './headers.js';
import { parseAddress, type Address, type AddressMatcher } from './net.js';

/** Who sent a request, as far as it can be known. */
export interface ClientAddress {
  /** The client: the TCP peer, or the first untrusted hop of `X-Forwarded-For` behind trusted proxies. */
  readonly address: Address;
  /** The TCP peer as API Gateway saw it (`requestContext.identity.sourceIp`). */
  readonly peer: Address;
  /** An `X-Forwarded-For` arrived from a peer that is not a trusted proxy, and was ignored. */
  readonly untrustedForwardedFor: boolean;
}

/**
 * Resolves the client address. `X-Forwarded-For` is read only when the peer is a
 * trusted proxy, walking right to left past trusted hops (everything left of the
 * last untrusted hop is client-controlled). Returns `undefined` when the peer
 * address is missing or the forwarded chain is malformed: callers fail closed.
 */
export const resolveClientAddress = (
  sourceIp: string | undefined,
  headers: HeaderMap,
  trustedProxies: AddressMatcher,
): ClientAddress | undefined => {
  const peer = sourceIp === undefined ? undefined : parseAddress(sourceIp);
  if (!peer) return undefined;
  const forwarded = headers.get('x-forwarded-for');
  if (!forwarded || forwarded.length === 0) return { address: peer, peer, untrustedForwardedFor: false };
  const hops = forwarded
    .join(',')
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop.length > 0);
  if (!trustedProxies.contains(peer)) {
    // API Gateway appends the caller itself as the last hop; anything more came from the client.
    const claimed = hops.length > 0 && parseAddress(hops[hops.length - 1] as string)?.ip === peer.ip ? hops.length - 1 : hops.length;
    return { address: peer, peer, untrustedForwardedFor: claimed > 0 };
  }
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(hops[i] as string);
    if (!hop) return undefined;
    client = hop;
    if (!trustedProxies.contains(hop)) break;
  }
  return { address: client, peer, untrustedForwardedFor: false };
};
