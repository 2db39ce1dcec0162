// Families (a) and (c): unsigned garbage, and HTTP that is malformed on the wire.
import { FIELD_VALUE, TOKEN, type Rng } from './rng.js';
import { PROTOTYPE_NAMES, type HostileCase } from './signed.js';
import { httpRequest, type HeaderLine } from './wire.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'post', 'PoSt', 'M-SEARCH', 'BREW'];
const HEADER_NAMES = [
  'Content-Type',
  'Origin',
  'Authorization',
  'X-Forwarded-For',
  'Forwarded',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'X-Hub-Signature-256',
  'Stripe-Signature',
  'X-Slack-Signature',
  'X-Slack-Request-Timestamp',
  'X-Shopify-Hmac-Sha256',
  'X-Signature',
  'Last-Event-ID',
  'Accept',
  'Cookie',
  'X-Amzn-Trace-Id',
  ...PROTOTYPE_NAMES,
];
const HEADER_VALUES = (rng: Rng): string =>
  rng.pick([
    '',
    ' ',
    '0',
    '-1',
    '1e309',
    'NaN',
    'null',
    '[]',
    '{}',
    'v1,',
    'v1,AAAA',
    `sha256=${rng.hex(64)}`,
    `t=${rng.int(2e9)},v1=${rng.hex(64)}`,
    `v0=${rng.hex(63)}`,
    'Bearer hwk_' + rng.hex(40),
    'application/json',
    'text/html; charset=utf-7',
    '*',
    'https://evil.example',
    'x'.repeat(4096),
    rng.text(rng.int(200), FIELD_VALUE),
    rng.text(rng.int(40), '\x80\x9b\xc3\xa9\xff\x1b\t'),
  ]);

const pathOf = (rng: Rng, sources: readonly string[]): string => {
  const query = rng.chance(0.3)
    ? `?${rng.pick([...PROTOTYPE_NAMES, 'a', ''])}=${encodeURIComponent(rng.text(rng.int(12), TOKEN))}&${rng.pick(PROTOTYPE_NAMES)}`
    : '';
  const base = rng.pick([
    `/webhooks/${rng.pick(sources)}`,
    `/webhooks/${rng.pick(sources)}/`,
    '/webhooks/',
    '/webhooks',
    '/',
    '/health',
    '/deliveries',
    '/events',
    '/webhooks/%ZZ',
    '/webhooks/..%2F..%2Fetc%2Fpasswd',
    '/webhooks/%00',
    '/webhooks/constructor',
    '/webhooks/__proto__',
    '//webhooks//x',
    '*',
    `/webhooks/${encodeURIComponent(rng.text(1 + rng.int(40), FIELD_VALUE))}`,
    `/${'a/'.repeat(500)}`,
    `/webhooks/${'x'.repeat(2000)}`,
    'http://127.0.0.1/webhooks/x',
    `/webhooks/${rng.pick(sources)}#frag`,
  ]);
  return `${base}${query}`;
};

const bodyOf = (rng: Rng): Buffer =>
  rng.pick([
    () => Buffer.alloc(0),
    () => rng.bytes(rng.int(2048)),
    () => Buffer.from(JSON.stringify({ id: rng.hex(8), type: 'x', data: rng.text(rng.int(100), FIELD_VALUE) })),
    () => Buffer.from('{"a":'.repeat(1000)),
    () => Buffer.from(`token=${rng.hex(10)}&payload=${encodeURIComponent('{"id":1}')}`),
  ])();

/** Family (a): random methods, paths, header names and values and bodies, with no valid signature. */
export const unsignedCase = (rng: Rng, sources: readonly string[]): HostileCase => {
  const method = rng.chance(0.85) ? rng.pick(METHODS) : rng.text(1 + rng.int(20), TOKEN);
  const lines: HeaderLine[] = Array.from({ length: rng.int(12) }, () => [
    rng.chance(0.75) ? rng.pick(HEADER_NAMES) : rng.text(1 + rng.int(30), TOKEN),
    HEADER_VALUES(rng),
  ]);
  return {
    kind: method.toUpperCase() === 'HEAD' ? 'HEAD' : /^[A-Z-]+$/.test(method) && METHODS.includes(method) ? method : 'odd-method',
    bytes: httpRequest(method, pathOf(rng, sources), lines, bodyOf(rng)),
    head: method === 'HEAD',
  };
};

/** Family (c): request lines, framing and chunks no conforming client would send. */
export const rawCase = (rng: Rng, sources: readonly string[]): HostileCase => {
  const path = `/webhooks/${rng.pick(sources)}`;
  const body = `{"id":"evt_${rng.hex(8)}"}`;
  const raw = (kind: string, text: string, mayHold = false): HostileCase => ({ kind, bytes: Buffer.from(text, 'latin1'), mayHold });
  if (rng.chance(0.02)) {
    // Past API Gateway's 10 MiB: the local server's own 413, sent in full (rare: 10 MiB each).
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    return {
      kind: 'over-gateway-limit',
      bytes: Buffer.concat([
        Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`),
        big,
      ]),
    };
  }
  switch (rng.int(16)) {
    case 0: {
      // Node skips empty lines before a request line and waits for one: holding such a connection is right.
      const line = rng.pick([
        'GET\r\n\r\n',
        `POST ${path} HTTP/9.9\r\n\r\n`,
        `POST  ${path}  HTTP/1.1\r\n\r\n`,
        `POST ${path}\r\n\r\n`,
        `POST ${path} http/1.1\r\n\r\n`,
        `${rng.text(20, FIELD_VALUE)}\r\n\r\n`,
        '\r\n\r\n\r\n',
        `GET /\0 HTTP/1.1\r\n\r\n`,
      ]);
      return raw('bad-request-line', line, /^[\r\n]*$/.test(line));
    }
    case 1:
      return raw('bad-request-line', `POST ${path} HTTP/1.1\nHost: x\nContent-Length: ${body.length}\n\n${body}`);
    case 2:
      return { kind: 'random-bytes', bytes: rng.bytes(1 + rng.int(4096)) };
    case 3:
      return raw('long-request-line', `GET /${'a'.repeat(rng.pick([9000, 70_000]))} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    case 4:
      return raw(
        'conflicting-content-length',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nContent-Length: ${body.length + rng.int(9) + 1}\r\nConnection: close\r\n\r\n${body}`,
      );
    case 5:
      return raw(
        'conflicting-content-length',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${rng.pick(['-1', '1e3', ' 5', '0x10', '99999999999999999999', '5, 5', '+5', '', 'abc'])}\r\nConnection: close\r\n\r\n${body}`,
      );
    case 6:
      return raw(
        'content-length-and-chunked',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
    case 7:
      return raw(
        'smuggled-request',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /webhooks/x?${rng.pick(PROTOTYPE_NAMES)}=1 HTTP/1.1\r\nHost: x\r\n${rng.pick(PROTOTYPE_NAMES)}: 1\r\nConnection: close\r\n\r\n`,
      );
    case 8:
      return raw(
        'bad-chunk-size',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${rng.pick(['zz', '-1', 'fffffffffffffffff', '1;ext="\x01"', ' 5', '5 5', '0x5', ''])}\r\nhello\r\n0\r\n\r\n`,
      );
    case 9:
      return raw(
        'bad-chunk-size',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
      );
    case 10:
      return raw(
        'incomplete-body',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${rng.pick(['a00000', '10'])}\r\n${body}`,
        true,
      );
    case 11:
      return raw(
        'incomplete-body',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${rng.pick([body.length + 1, 11 * 1024 * 1024, 2 ** 31])}\r\nConnection: close\r\n\r\n${body}`,
        true,
      );
    case 12:
      return raw(
        'transfer-encoding',
        `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${rng.pick(['gzip', 'chunked, identity', 'identity', 'chunked\r\nTransfer-Encoding: chunked', 'xchunked', 'chunked;q=1'])}\r\nConnection: close\r\n\r\n${body}`,
        true,
      );
    case 13:
      return raw(
        'bad-header-line',
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${rng.pick(['NoColon', 'Content-Length : 5', ' folded: yes', 'X: a\r\n  continued', 'X\0Y: 1', ': empty-name', `X: ${'\x7f'}`, 'Bad Name: 1'])}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    case 14:
      return raw(
        'huge-headers',
        `GET / HTTP/1.1\r\nHost: x\r\n${rng.chance(0.5) ? `X-Big: ${'b'.repeat(20_000)}\r\n` : Array.from({ length: 3000 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}Connection: close\r\n\r\n`,
      );
    default:
      return raw(
        'http-versions',
        rng.pick([
          `GET ${path}\r\n`,
          `POST ${path} HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
          `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n`,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ]),
        true,
      );
  }
};
