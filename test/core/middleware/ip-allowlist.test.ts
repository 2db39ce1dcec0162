import { describe, expect, it } from 'vitest';
import { headerMapFromEvent } from '../../../core/headers.js';
import { ipAllowlist } from '../../../core/middleware/ip-allowlist/index.js';
import { middyRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const SECRET = TEST_SECRETS.standardWebhooks;
const allowlisted = sourcesFrom({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_IPS: '203.0.113.0/24, 2001:db8::/32' });
const open = sourcesFrom({ WEBHOOK_SECRET: SECRET });

/** A request as ip-allowlist sees it: webhook-route has resolved the source and the headers. */
const request = (sources: typeof open, sourceIp: string | undefined, headers: Record<string, string> = {}) => {
  const req = middyRequest({ headers, requestContext: { requestId: 'r', identity: { sourceIp } } as never });
  req.context.hookwarden.source = sources.get('default');
  req.context.hookwarden.headers = headerMapFromEvent(req.event);
  return req;
};

describe('ipAllowlist', () => {
  it('lets an allowlisted peer through and records it as the client', async () => {
    const req = request(allowlisted, '203.0.113.9');
    await ipAllowlist({ sources: allowlisted }).before!(req);
    expect(req.context.hookwarden.client?.address.ip).toBe('203.0.113.9');
  });

  it.each(['198.51.100.7', '2001:db9::1', '::ffff:198.51.100.7'])('refuses %s outside the allowlist with 403 ip_denied', async (ip) => {
    await expect(ipAllowlist({ sources: allowlisted }).before!(request(allowlisted, ip))).rejects.toMatchObject({
      statusCode: 403,
      code: 'ip_denied',
    });
  });

  it('accepts any address for a source without an allowlist', async () => {
    await expect(ipAllowlist({ sources: open }).before!(request(open, '198.51.100.7'))).resolves.toBeUndefined();
  });

  it.each([undefined, '', 'not-an-ip'])('fails closed without a usable peer address (%s): 403', async (ip) => {
    await expect(ipAllowlist({ sources: open }).before!(request(open, ip))).rejects.toMatchObject({ statusCode: 403, code: 'ip_denied' });
  });

  // Composed before webhookRoute (or given other sources than it), there is no allowlist to read: refuse rather than
  // let every address through.
  it('fails closed without webhookRoute before it', async () => {
    const req = middyRequest({ requestContext: { requestId: 'r', identity: { sourceIp: '198.51.100.7' } } as never });
    await expect(ipAllowlist({ sources: allowlisted }).before!(req)).rejects.toThrow(/webhookRoute/);
  });

  it('fails closed for a source it was not given', async () => {
    await expect(ipAllowlist({ sources: new Map() }).before!(request(allowlisted, '198.51.100.7'))).rejects.toThrow(/"default"/);
  });

  it('trusts no proxy by default: X-Forwarded-For cannot claim an allowlisted address', async () => {
    for (const options of [{ sources: allowlisted }, { sources: allowlisted, trustedProxies: undefined }]) {
      const req = request(allowlisted, '10.0.0.5', { 'x-forwarded-for': '203.0.113.9' });
      await expect(ipAllowlist(options).before!(req)).rejects.toMatchObject({ statusCode: 403, code: 'ip_denied' });
    }
  });

  it('takes the client from X-Forwarded-For only behind a trusted proxy', async () => {
    const req = request(allowlisted, '10.0.0.5', { 'x-forwarded-for': '203.0.113.9' });
    await ipAllowlist({ sources: allowlisted, trustedProxies: ['10.0.0.0/8'] }).before!(req);
    expect(req.context.hookwarden.client?.address.ip).toBe('203.0.113.9');
  });

  // node:net's BlockList matches an IPv4 address against any IPv6 range holding ::ffff:0:0/96, so `::/1` (which the parser
  // does not count as every address, no acknowledgement needed) would admit every IPv4 client and trust every IPv4 peer.
  it.each(['::/1', '::/64', '::/80'])('does not let the IPv6 range %s admit an IPv4 client', async (range) => {
    const sources = sourcesFrom({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_IPS: range });
    await expect(ipAllowlist({ sources }).before!(request(sources, '198.51.100.7'))).rejects.toMatchObject({
      statusCode: 403,
      code: 'ip_denied',
    });
    await expect(ipAllowlist({ sources }).before!(request(sources, '::1'))).resolves.toBeUndefined();
  });

  it.each(['::/1', '::/64'])('does not let the IPv6 trusted proxy range %s vouch for an IPv4 peer', async (range) => {
    const req = request(allowlisted, '198.51.100.7', { 'x-forwarded-for': '203.0.113.9' });
    await expect(ipAllowlist({ sources: allowlisted, trustedProxies: [range] }).before!(req)).rejects.toMatchObject({
      statusCode: 403,
      code: 'ip_denied',
    });
  });

  it('answers a malformed X-Forwarded-For from a trusted proxy with 400 forwarded_header_invalid', async () => {
    const req = request(allowlisted, '10.0.0.5', { 'x-forwarded-for': 'not-an-address' });
    await expect(ipAllowlist({ sources: allowlisted, trustedProxies: ['10.0.0.0/8'] }).before!(req)).rejects.toMatchObject({
      statusCode: 400,
      code: 'forwarded_header_invalid',
    });
  });
});
