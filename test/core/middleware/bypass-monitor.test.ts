import { describe, expect, it } from 'vitest';
import { resolveClientAddress } from '../../../core/client-ip.js';
import { headerMapFromEvent } from '../../../core/headers.js';
import { bypassMonitor } from '../../../core/middleware/bypass-monitor/index.js';
import { addressMatcher } from '../../../core/net.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { jsonLinesDuring } from '../../helpers/json-lines.js';
import { middyRequest } from '../../helpers/middy-request.js';

const telemetry = createTelemetry();
const NOW = 1_800_000_000_000;

/** A request as bypass-monitor sees it: the client resolved by ip-allowlist (no proxy trusted). */
const request = (sourceIp: string, headers: Record<string, string> = {}) => {
  const req = middyRequest({ headers, requestContext: { requestId: 'r', identity: { sourceIp } } as never });
  req.context.hookwarden.client = resolveClientAddress(sourceIp, headerMapFromEvent(req.event), addressMatcher([]));
  return req;
};
const events = (lines: Array<Record<string, unknown>>) =>
  lines.flatMap((l) => (l.message === 'bypass attempt' ? [l.securityEvent as Record<string, unknown>] : []));

describe('bypassMonitor', () => {
  it('reports an X-Forwarded-For from an untrusted peer, and lets the request through', async () => {
    const monitor = bypassMonitor({ telemetry, now: () => NOW });
    const lines = await jsonLinesDuring(() => monitor.before!(request('198.51.100.7', { 'x-forwarded-for': '203.0.113.9' })));
    expect(events(lines)).toEqual([
      expect.objectContaining({ code: 'forwarded_header_untrusted', clientIp: '198.51.100.7', peer: '198.51.100.7' }),
    ]);
    expect(lines.find((l) => 'BypassAttempt' in l)).toMatchObject({ BypassAttempt: 1, code: 'forwarded_header_untrusted' });
  });

  it('says nothing about an ordinary request', async () => {
    const monitor = bypassMonitor({ telemetry, now: () => NOW });
    expect(events(await jsonLinesDuring(() => monitor.before!(request('198.51.100.7'))))).toEqual([]);
  });

  it('reports once when one IPv6 /64 reaches the threshold of distinct addresses within a minute (16 by default)', async () => {
    for (const options of [
      { telemetry, now: () => NOW },
      { telemetry, now: () => NOW, ipv6SpreadThreshold: undefined },
    ]) {
      const monitor = bypassMonitor(options);
      const lines = await jsonLinesDuring(async () => {
        for (let i = 1; i <= 20; i++) await monitor.before!(request(`2001:db8:1:2::${i.toString(16)}`));
      });
      expect(events(lines)).toEqual([expect.objectContaining({ code: 'ipv6_spread', addresses: 16 })]);
    }
  });

  it('counts the spread per minute, with a configured threshold', async () => {
    let clock = NOW;
    const monitor = bypassMonitor({ telemetry, now: () => clock, ipv6SpreadThreshold: 3 });
    const lines = await jsonLinesDuring(async () => {
      await monitor.before!(request('2001:db8:1:2::1'));
      await monitor.before!(request('2001:db8:1:2::2'));
      clock += 60_000;
      await monitor.before!(request('2001:db8:1:2::3'));
      await monitor.before!(request('2001:db8:1:2::3'));
    });
    expect(events(lines)).toEqual([]);
    const more = await jsonLinesDuring(async () => {
      await monitor.before!(request('2001:db8:1:2::4'));
      await monitor.before!(request('2001:db8:1:2::5'));
    });
    expect(events(more)).toEqual([expect.objectContaining({ code: 'ipv6_spread', addresses: 3 })]);
  });
});
