// Families (b) and (d): correctly signed deliveries with hostile bodies, and
// signed deliveries whose security headers are duplicated or contradict each other.
import type { SignatureScheme } from '../../core/schemes/types.js';
import { FIELD_VALUE, type Rng } from './rng.js';
import { httpRequest, type HeaderLine } from './wire.js';

/** A configured source the generator can sign for. */
export interface SignedSource {
  readonly name: string;
  readonly scheme: SignatureScheme;
  /** The secret as configured (what a provider holds). */
  readonly secret: string;
}

/** One request of a family, ready for the wire. */
export interface HostileCase {
  /** A short name of what the case tries, for the tallies. */
  readonly kind: string;
  readonly bytes: Buffer;
  /** Sent with HEAD (its answers carry no body). */
  readonly head?: boolean;
  /** The request is incomplete on purpose: a server still waiting for the rest is right. */
  readonly mayHold?: boolean;
}

/** Names that are properties of every plain object: a lookup table keyed by request data must not trip on them. */
export const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
] as const;

const TWO_MB = 2 * 1024 * 1024;
let incompressible: string | undefined;
/** 2 MiB of base64 text that gzip cannot shrink, built once. */
const noise = (rng: Rng): string => (incompressible ??= rng.bytes((TWO_MB * 3) / 4).toString('base64'));

/** A value of every JSON type, including the awkward ones. */
const jsonValue = (rng: Rng): string =>
  rng.pick([
    'null',
    'true',
    'false',
    '0',
    '-0',
    '-1',
    '1.5',
    '1e308',
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '""',
    '"evt_ok"',
    `"evt_${rng.hex(8)}"`,
    `"${'x'.repeat(300)}"`,
    '"has space"',
    '"\\u0000"',
    '"\\ud800"',
    '"\\u001b[31m"',
    '[]',
    '[1,"a",null]',
    '{}',
    '{"id":"nested"}',
    '{"__proto__":{"polluted":true}}',
    '"__proto__"',
    '"constructor"',
  ]);

/** Bodies that are signed correctly but hostile in content. */
const hostileBody = (rng: Rng): { kind: string; body: Buffer } => {
  switch (rng.int(5)) {
    case 0: {
      const bad = [
        Buffer.from([0xff]),
        Buffer.from([0xc0, 0x80]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xe2, 0x82]),
        Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
      ];
      const parts = [
        Buffer.from(`{"id":"evt_${rng.hex(8)}","type":"`),
        rng.pick(bad),
        Buffer.from('","data":"'),
        rng.bytes(rng.int(64)),
        Buffer.from('"}'),
      ];
      return {
        kind: 'invalid-utf8',
        body: rng.chance(0.5) ? Buffer.concat(parts) : Buffer.concat([rng.bytes(rng.int(512)), rng.pick(bad)]),
      };
    }
    case 1: {
      const filler = rng.chance(0.5) ? 'x'.repeat(TWO_MB) : noise(rng);
      const text = rng.chance(0.7) ? `{"id":"evt_${rng.hex(8)}","type":"big","data":"${filler}"}` : filler;
      return { kind: '2mb-string', body: Buffer.from(text) };
    }
    case 2: {
      const depth = rng.pick([1_000, 10_000, 100_000, 500_000]);
      const [open, close] = rng.pick([
        ['[', ']'],
        ['{"a":', '}'],
        ['{"id":[', ']}'],
      ] as const);
      const balanced = rng.chance(0.8);
      return { kind: 'deep-nesting', body: Buffer.from(`${open.repeat(depth)}1${close.repeat(balanced ? depth : depth - 1)}`) };
    }
    case 3: {
      const fields = ['id', 'event_id', 'type', 'event', 'webhook_id'].map((key) => `"${key}":${jsonValue(rng)}`);
      const extra = rng.chance(0.3) ? `,"id":"evt_${rng.hex(6)}"` : ''; // a duplicate key
      return { kind: 'id-types', body: Buffer.from(`{${fields.join(',')}${extra}}`) };
    }
    default:
      return { kind: 'id-types', body: Buffer.from(jsonValue(rng)) };
  }
};

const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
  'application/json; charset=utf-16',
  '',
];

/** The provider's headers for a body, as `[name, value]` lines, with a fresh id where the scheme takes one. */
export const signedLines = (source: SignedSource, body: Buffer, rng: Rng, timestampSeconds = Math.floor(Date.now() / 1000)): HeaderLine[] =>
  Object.entries(source.scheme.sign(source.secret, { body, id: `msg_${rng.hex(16)}`, timestampSeconds }));

/** Family (b): a correctly signed hostile body for one of the sources, in turn. */
export const signedCase = (rng: Rng, sources: readonly SignedSource[], index: number): HostileCase => {
  const source = sources[index % sources.length] as SignedSource;
  const { kind, body } = hostileBody(rng);
  const contentType = rng.pick(CONTENT_TYPES);
  const lines: HeaderLine[] = [...signedLines(source, body, rng), ...(contentType ? [['Content-Type', contentType] as const] : [])];
  return { kind: `${source.scheme.name}/${kind}`, bytes: httpRequest('POST', `/webhooks/${source.name}`, lines, body) };
};

/** Spoofed client addresses, well-formed or not. */
const FORWARDED = [
  '127.0.0.1',
  '10.0.0.1, 203.0.113.7',
  'unknown',
  '::ffff:198.51.100.1',
  '',
  '203.0.113.7:443',
  '[::1]',
  '1.2.3.4, ::zz',
  '0.0.0.0',
  '255.255.255.255, 127.0.0.1',
  'for=192.0.2.60;proto=http',
];
const ORIGINS = [
  'https://app.example.com',
  'https://evil.example',
  'null',
  'https://app.example.com.evil.example',
  'https://APP.example.com',
  '',
];

/** One way to duplicate or contradict a security header of a valid signed delivery. */
const mutate = (
  rng: Rng,
  lines: HeaderLine[],
  source: SignedSource,
  body: Buffer,
): { kind: string; lines: HeaderLine[]; query: string } => {
  const signature = lines.find(([name]) => /sig|hmac/i.test(name)) ?? (lines[0] as HeaderLine);
  const others = signedLines(source, body, rng, Math.floor(Date.now() / 1000) - rng.pick([0, 301, 3600, -3600]));
  const fresh = others.find(([name]) => name === signature[0]) ?? signature;
  const garbage = rng.text(rng.int(80), FIELD_VALUE).trim();
  switch (rng.int(9)) {
    case 0:
      return {
        kind: 'signature-twice',
        lines: rng.chance(0.5) ? [...lines, [signature[0], garbage]] : [[signature[0], garbage], ...lines],
        query: '',
      };
    case 1:
      return {
        kind: 'signature-case-variants',
        lines: [...lines, [signature[0].toUpperCase(), fresh[1]], [signature[0].toLowerCase(), garbage]],
        query: '',
      };
    case 2:
      return { kind: 'timestamp-or-id-conflict', lines: [...lines, ...others.filter(([name]) => name !== signature[0])], query: '' };
    case 3:
      return {
        kind: 'forwarded-for',
        lines: [
          ...lines,
          ...Array.from(
            { length: 1 + rng.int(4) },
            () =>
              [rng.pick(['X-Forwarded-For', 'x-forwarded-for', 'Forwarded', 'X-Real-IP', 'True-Client-IP']), rng.pick(FORWARDED)] as const,
          ),
        ],
        query: '',
      };
    case 4:
      return {
        kind: 'origin',
        lines: [
          ...lines,
          ['Origin', rng.pick(ORIGINS)],
          ['Origin', rng.pick(ORIGINS)],
          ['Access-Control-Request-Method', rng.pick(['POST', 'DELETE', 'GET, PUT'])],
        ],
        query: '',
      };
    case 5:
      return {
        kind: 'content-type',
        lines: [...lines, ['Content-Type', 'application/json'], ['Content-Type', rng.pick(CONTENT_TYPES)]],
        query: '',
      };
    case 6:
      return {
        kind: 'prototype-header',
        lines: [...lines, [rng.pick(PROTOTYPE_NAMES), garbage], [rng.pick(PROTOTYPE_NAMES), 'x']],
        query: '',
      };
    case 7:
      return { kind: 'prototype-query', lines, query: `?${rng.pick(PROTOTYPE_NAMES)}=1&${rng.pick(PROTOTYPE_NAMES)}=2` };
    default:
      return {
        kind: 'svix-and-combined',
        lines: [...lines, ...lines.map(([name, value]) => [name.replace(/^webhook-/i, 'svix-'), `${value} ${fresh[1]}`] as const)],
        query: '',
      };
  }
};

/** Family (d): a valid signed delivery with one security header duplicated or contradicted. */
export const headersCase = (rng: Rng, sources: readonly SignedSource[], index: number): HostileCase => {
  const source = sources[index % sources.length] as SignedSource;
  const body = Buffer.from(JSON.stringify({ id: `evt_${rng.hex(12)}`, event_id: `Ev${rng.hex(10)}`, type: 'security.suite' }));
  const { kind, lines, query } = mutate(rng, signedLines(source, body, rng), source, body);
  return {
    kind: `${source.scheme.name}/${kind}`,
    bytes: httpRequest('POST', `/webhooks/${source.name}${query}`, [...lines, ['Content-Type', 'application/json']], body),
  };
};
