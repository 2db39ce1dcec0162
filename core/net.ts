import { BlockList, isIP } from 'node:net';

/** An IP address in canonical form with its family. */
export interface Address {
  readonly ip: string;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses an address, normalizing every IPv4-mapped IPv6 form (`::ffff:1.2.3.4`,
 * `::ffff:0102:0304`, `0:0:0:0:0:ffff:…`, any letter case) to IPv4 and dropping
 * an IPv6 zone id, so one client has one identity for the allowlist, the
 * blocklist and the rate-limit key. Returns `undefined` for anything that is
 * not an address.
 */
export const parseAddress = (raw: string): Address | undefined => {
  let text = raw.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone > 0) text = text.slice(0, zone);
  const version = isIP(text);
  if (version === 4) return { ip: text, family: 'ipv4' };
  if (version !== 6) return undefined;
  const groups = ipv6Groups(text);
  // ::ffff:0:0/96 is the IPv4-mapped block: the first 80 bits zero, then 0xffff.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high, low] = groups.slice(6) as [number, number];
    return { ip: `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`, family: 'ipv4' };
  }
  return { ip: text.toLowerCase(), family: 'ipv6' };
};

/**
 * Checks one IP or CIDR entry (`10.0.0.0/8`, `2001:db8::/32`, `1.2.3.4`).
 * Returns a problem description, or `undefined` when the entry is valid.
 */
export const describeInvalidRange = (entry: string): string | undefined => {
  const [ip, prefix, extra] = entry.trim().split('/');
  if (extra !== undefined || ip === undefined) return `"${entry}" is not an IP address or CIDR range`;
  const address = parseAddress(ip);
  if (!address) return `"${entry}" is not an IP address or CIDR range`;
  if (prefix === undefined) return undefined;
  // A mapped range (::ffff:10.0.0.0/104) would need its prefix translated: ask for the IPv4 form instead.
  if (address.family === 'ipv4' && ip.includes(':'))
    return `"${entry}" is an IPv4-mapped range: write it as IPv4 (${address.ip}/<prefix − 96>)`;
  const max = address.family === 'ipv4' ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
    return `"${entry}" has an invalid prefix length (0 to ${max} for ${address.family === 'ipv4' ? 'IPv4' : 'IPv6'})`;
  }
  return undefined;
};

/**
 * For a valid CIDR entry whose address is not its network's (`10.0.0.1/8`): the problem, naming both readings.
 * Such an entry is most likely a typo for one address or another prefix; in an allowlist or a list of trusted
 * proxies, reading it as its network would admit or trust far more than was meant (16 million addresses here).
 * A block may be widened instead (`canonicalRange`): blocking more fails safe.
 * @returns the problem, or `undefined` for an address, a network's own address, or an invalid entry
 */
export const describeHostBits = (entry: string): string | undefined => {
  if (describeInvalidRange(entry) !== undefined) return undefined;
  const [ip, prefix] = entry.trim().split('/');
  if (prefix === undefined) return undefined;
  const address = parseAddress(ip as string) as Address;
  const host = BigInt((address.family === 'ipv4' ? 32 : 128) - Number(prefix));
  const value = addressValue(address);
  const network = (value >> host) << host;
  if (network === value) return undefined;
  const text = address.family === 'ipv4' ? ipv4Text(network) : ipv6Text(network);
  return `"${entry}" has host bits set: write ${text}/${prefix} for the whole range, or ${address.ip} for the one address`;
};

/** A set of IPs and CIDR ranges, built once (cold start) and queried per request. */
export interface AddressMatcher {
  /** Whether the address is inside any range. */
  contains(address: Address): boolean;
  /** Number of entries it was built from. */
  readonly size: number;
}

/**
 * Builds an {@link AddressMatcher} from validated entries with `node:net`'s BlockList,
 * one per family: a BlockList matches an IPv4 address against any IPv6 range that holds
 * `::ffff:0:0/96` (`::/1`, `::/64`), so one list would let such a range admit every IPv4
 * client. Mapped addresses are IPv4 already ({@link parseAddress}) and mapped ranges are refused.
 * @throws Error when an entry is invalid (configuration is validated before this runs)
 */
export const addressMatcher = (entries: readonly string[]): AddressMatcher => {
  const lists = { ipv4: new BlockList(), ipv6: new BlockList() };
  for (const entry of entries) {
    const problem = describeInvalidRange(entry);
    if (problem) throw new Error(problem);
    const [ip, prefix] = entry.trim().split('/');
    const address = parseAddress(ip as string) as Address;
    if (prefix === undefined) lists[address.family].addAddress(address.ip, address.family);
    else lists[address.family].addSubnet(address.ip, Number(prefix), address.family);
  }
  return {
    size: entries.length,
    contains: (address) => entries.length > 0 && lists[address.family].check(address.ip, address.family),
  };
};

/**
 * The families whose every address the valid entries cover together: one `/0`,
 * or ranges that add up to the whole space (`0.0.0.0/1` with `128.0.0.0/1`).
 * Invalid entries are ignored (they are reported elsewhere).
 */
export const familiesCovered = (entries: readonly string[]): ReadonlyArray<'ipv4' | 'ipv6'> => {
  const spans: Record<'ipv4' | 'ipv6', Array<[bigint, bigint]>> = { ipv4: [], ipv6: [] };
  for (const entry of entries) {
    if (describeInvalidRange(entry) !== undefined) continue;
    const [ip, prefix] = entry.trim().split('/');
    const address = parseAddress(ip as string) as Address;
    const bits = address.family === 'ipv4' ? 32 : 128;
    const host = BigInt(bits - (prefix === undefined ? bits : Number(prefix)));
    const start = (addressValue(address) >> host) << host;
    spans[address.family].push([start, start + (1n << host) - 1n]);
  }
  return (['ipv4', 'ipv6'] as const).filter((family) => {
    const last = (1n << BigInt(family === 'ipv4' ? 32 : 128)) - 1n;
    let next = 0n;
    for (const [start, end] of spans[family].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (start > next) return false;
      if (end + 1n > next) next = end + 1n;
    }
    return next > last;
  });
};

/**
 * The one spelling of a valid IP or CIDR entry, so that two spellings of one range are one
 * blocklist key: IPv4-mapped addresses as IPv4, IPv6 in lower case with its longest run of
 * zero groups as `::` (RFC 5952), a range by its network address, and a full-length prefix
 * dropped (`203.0.113.7/32` is `203.0.113.7`, `2001:0DB8:0:0::1` is `2001:db8::1`).
 * @returns the canonical text, or `undefined` for an invalid entry
 */
export const canonicalRange = (entry: string): string | undefined => {
  if (describeInvalidRange(entry) !== undefined) return undefined;
  const [ip, prefix] = entry.trim().split('/');
  const address = parseAddress(ip as string) as Address;
  const bits = address.family === 'ipv4' ? 32 : 128;
  const length = prefix === undefined ? bits : Number(prefix);
  const host = BigInt(bits - length);
  const network = (addressValue(address) >> host) << host;
  const text = address.family === 'ipv4' ? ipv4Text(network) : ipv6Text(network);
  return length === bits ? text : `${text}/${length}`;
};

/** An address as one number: 32 bits for IPv4, 128 for IPv6. */
const addressValue = (address: Address): bigint =>
  address.family === 'ipv4'
    ? address.ip.split('.').reduce((n, octet) => (n << 8n) | BigInt(octet), 0n)
    : ipv6Groups(address.ip).reduce((n, group) => (n << 16n) | BigInt(group), 0n);

const ipv4Text = (value: bigint): string => [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');

const ipv6Text = (value: bigint): string => {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn));
  // RFC 5952: the longest run of two or more zero groups (the first of equal runs) is written `::`.
  let run = { start: 0, length: 0 };
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > run.length) run = { start, length: end - start };
  }
  const hex = groups.map((group) => group.toString(16));
  if (run.length < 2) return hex.join(':');
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.length).join(':')}`;
};

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail expanded). */
const ipv6Groups = (ip: string): number[] => {
  let text = ip;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16));
};

/**
 * The rate-limit identity of a client: an IPv4 address as is, an IPv6 address
 * by its /64 (one subscriber usually holds a whole /64, so per-address limits
 * would be trivial to dodge).
 */
export const clientKeyOf = (address: Address): string => {
  if (address.family === 'ipv4') return address.ip;
  const groups = ipv6Groups(address.ip)
    .slice(0, 4)
    .map((g) => g.toString(16));
  return `${groups.join(':')}::/64`;
};
