import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveClientAddress } from '../../core/client-ip.js';
import { addressMatcher, canonicalRange, clientKeyOf, describeInvalidRange, parseAddress } from '../../core/net.js';

const headers = (xff?: string) => new Map(xff === undefined ? [] : [['x-forwarded-for', [xff]]]);

describe('addresses and ranges', () => {
  it.each([
    ['1.2.3.4', { ip: '1.2.3.4', family: 'ipv4' }],
    ['::ffff:1.2.3.4', { ip: '1.2.3.4', family: 'ipv4' }],
    ['2001:DB8::1', { ip: '2001:db8::1', family: 'ipv6' }],
    ['[2001:db8::1]', { ip: '2001:db8::1', family: 'ipv6' }],
    ['fe80::1%eth0', { ip: 'fe80::1', family: 'ipv6' }],
  ])('parses %s', (raw, expected) => {
    expect(parseAddress(raw)).toEqual(expected);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', 'example.com', '1.2.3.4/8'])('refuses %j as an address', (raw) => {
    expect(parseAddress(raw)).toBeUndefined();
  });

  it('matches IPv4 and IPv6 CIDRs, and IPv4-mapped addresses against IPv4 ranges', () => {
    const m = addressMatcher(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
    expect(m.contains(parseAddress('10.200.0.1')!)).toBe(true);
    expect(m.contains(parseAddress('::ffff:10.1.1.1')!)).toBe(true);
    expect(m.contains(parseAddress('2001:db8:ffff::1')!)).toBe(true);
    expect(m.contains(parseAddress('192.0.2.1')!)).toBe(true);
    expect(m.contains(parseAddress('192.0.2.2')!)).toBe(false);
    expect(m.contains(parseAddress('11.0.0.1')!)).toBe(false);
  });

  it.each(['10.0.0.0/33', '2001:db8::/129', '1.2.3.4/x', '1.2.3.4/8/9', 'nope/8'])('describes %s as invalid', (entry) => {
    expect(describeInvalidRange(entry)).toBeDefined();
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseAddress(text);
        describeInvalidRange(text);
      }),
    );
  });
});

describe('resolveClientAddress', () => {
  const trusted = addressMatcher(['10.0.0.0/8']);

  it('uses the peer when it is not a trusted proxy, and flags a client-sent X-Forwarded-For', () => {
    const r = resolveClientAddress('198.51.100.1', headers('203.0.113.9, 198.51.100.1'), trusted);
    expect(r?.address.ip).toBe('198.51.100.1');
    expect(r?.untrustedForwardedFor).toBe(true);
  });

  it('does not flag the hop API Gateway appends itself (the peer)', () => {
    expect(resolveClientAddress('198.51.100.1', headers('198.51.100.1'), trusted)?.untrustedForwardedFor).toBe(false);
  });

  it('walks right to left past trusted hops', () => {
    expect(resolveClientAddress('10.0.0.1', headers('6.6.6.6, 203.0.113.9, 10.9.9.9'), trusted)?.address.ip).toBe('203.0.113.9');
  });

  it('fails closed on a malformed hop and a missing peer', () => {
    expect(resolveClientAddress('10.0.0.1', headers('203.0.113.9, garbage'), trusted)).toBeUndefined();
    expect(resolveClientAddress(undefined, headers(), trusted)).toBeUndefined();
  });
});

describe('clientKeyOf', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:aa:bb:1:2:3:4', '2001:db8:aa:bb::/64'],
    ['2001:db8:aa:bb::ffff', '2001:db8:aa:bb::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
  ])('keys %s as %s', (raw, key) => {
    expect(clientKeyOf(parseAddress(raw)!)).toBe(key);
  });
});

describe('IPv4-mapped IPv6 in every spelling is the IPv4 address', () => {
  const hex = (n: number, pad: boolean) => n.toString(16).padStart(pad ? 4 : 1, '0');
  /** The spellings of ::ffff:a.b.c.d that a peer or a proxy may hand us. */
  const mappedForms = fc.tuple(fc.ipV4(), fc.nat(15)).map(([v4, style]) => {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    const pad = (style & 1) === 1;
    const tail = (style & 2) === 2 ? v4 : `${hex((a << 8) | b, pad)}:${hex((c << 8) | d, pad)}`;
    const heads = ['::ffff:', '0:0:0:0:0:ffff:', '0000:0000:0000:0000:0000:FFFF:', '::0:ffff:', '0::ffff:', '0:0::ffff:'];
    let form = `${heads[style % heads.length]}${tail}`;
    if ((style & 4) === 4) form = form.toUpperCase();
    if ((style & 8) === 8) form = `[${form}]`;
    return { v4, form };
  });

  it('parses to the IPv4 address, with the same client key and the same allowlist and blocklist answers', () => {
    fc.assert(
      fc.property(mappedForms, ({ v4, form }) => {
        const address = parseAddress(form);
        expect(address).toEqual({ ip: v4, family: 'ipv4' });
        expect(clientKeyOf(address!)).toBe(clientKeyOf(parseAddress(v4)!));
        // An IPv4 entry matches the mapped client, and a mapped entry matches the IPv4 client.
        expect(addressMatcher([v4]).contains(address!)).toBe(true);
        expect(addressMatcher([`${v4}/32`]).contains(address!)).toBe(true);
        expect(addressMatcher([form]).contains(parseAddress(v4)!)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('resolves the same client from the peer and from a trusted X-Forwarded-For', () => {
    const trusted = addressMatcher(['10.0.0.0/8']);
    fc.assert(
      fc.property(mappedForms, ({ v4, form }) => {
        expect(resolveClientAddress(form.replace(/^\[|\]$/g, ''), headers(), trusted)?.address.ip).toBe(v4);
        expect(resolveClientAddress('10.0.0.1', headers(form), trusted)?.address.ip).toBe(v4);
      }),
    );
  });

  it.each([
    ['::ffff:c633:6415', '198.51.100.21'],
    ['::FFFF:C633:6415', '198.51.100.21'],
    ['0:0:0:0:0:ffff:c633:6415', '198.51.100.21'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['::ffff:0:0', '0.0.0.0'],
  ])('keys %s as %s (not as 0:0:0:0::/64)', (raw, key) => {
    expect(clientKeyOf(parseAddress(raw)!)).toBe(key);
  });

  it.each(['::c633:6415', '::ffff:0:c633:6415', '64:ff9b::c633:6415', '1::ffff:c633:6415'])(
    'leaves %s IPv6 (not in ::ffff:0:0/96)',
    (raw) => {
      expect(parseAddress(raw)?.family).toBe('ipv6');
    },
  );

  it('asks for the IPv4 form of a mapped range instead of misreading its prefix', () => {
    expect(describeInvalidRange('::ffff:c633:6400/120')).toMatch(/IPv4-mapped range: write it as IPv4 \(198\.51\.100\.0/);
    expect(describeInvalidRange('::ffff:c633:6415')).toBeUndefined();
  });
});

describe('canonicalRange', () => {
  it.each([
    ['203.0.113.7/32', '203.0.113.7'],
    ['198.51.100.77/24', '198.51.100.0/24'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:0DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:0/128', '2001:db8:0:0:1::'],
    ['2001:db8:bad:1::/48', '2001:db8:bad::/48'],
    ['[fe80::1%eth0]', 'fe80::1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:2:3:4:5:6:0:8', '1:2:3:4:5:6:0:8'],
    ['::', '::'],
  ])('spells %s as %s', (entry, canonical) => {
    expect(canonicalRange(entry)).toBe(canonical);
  });

  it('covers exactly the addresses of the entry, and is its own canonical form (property)', () => {
    const v6 = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
      .map((g) => g.map((x) => x.toString(16)).join(':'));
    const entry = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, prefix]) => `${ip}/${prefix}`),
      fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([ip, prefix]) => `${ip}/${prefix}`),
    );
    fc.assert(
      fc.property(entry, fc.oneof(fc.ipV4(), v6), (range, probe) => {
        const canonical = canonicalRange(range) as string;
        const address = parseAddress(probe)!;
        expect(canonicalRange(canonical)).toBe(canonical);
        expect(addressMatcher([canonical]).contains(address)).toBe(addressMatcher([range]).contains(address));
      }),
    );
  });
});
