import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const SECURITY_HEADERS = [
  'x-content-type-options',
  'cache-control',
  'strict-transport-security',
  'x-frame-options',
  'content-security-policy',
  'referrer-policy',
];

/** Sends raw bytes and returns everything the server answers until it closes the connection (or `keepOpen` bytes were written). */
const raw = (url: string, chunks: Array<string | Buffer>, options: { end?: boolean } = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(answer) : reject(error),
    );
    socket.on('close', () => resolve(answer));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
      if (options.end) socket.end();
    });
  });

/** Status, headers (lower-case) and JSON body of a raw HTTP answer. */
const parse = (answer: string): { status: number; headers: Map<string, string>; body: unknown } => {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
};

const errorShape = (code: string) => ({ error: { code, message: expect.any(String), requestId: expect.any(String) } });

describe('local server: header and query names from the prototype', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
  });
  afterAll(() => h.close());

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'])(
    'a header, a repeated header and a query parameter named %s get a 4xx, never a 5xx',
    async (name) => {
      for (const path of ['/webhooks/default', '/health', '/nowhere']) {
        const headers = new Headers([
          [name, 'x'],
          [name, 'y'],
        ]);
        const res = await fetch(`${h.url}${path}?${name}=1&${name}=2`, { method: 'POST', headers, body: '{}' });
        expect(res.status, `${name} on ${path}`).toBeLessThan(500);
        expect(res.status).toBeGreaterThanOrEqual(400);
      }
    },
  );
});

describe('local server: size limits and slow clients', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, WEBHOOK_MAX_BODY_BYTES: '1000' }, { requestTimeoutMs: 1500 });
  });
  afterAll(() => h.close());

  it('refuses a Content-Length above the largest source limit before any body is sent', async () => {
    // No body follows the headers: an answer proves the server did not wait for it.
    const answer = parse(
      await raw(h.url, [
        'POST /webhooks/default HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11534336\r\n\r\n',
      ]),
    );
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(errorShape('payload_too_large'));
    for (const name of SECURITY_HEADERS) expect(answer.headers.has(name), name).toBe(true);
  });

  it('answers a large body announced with Expect: 100-continue with 413 instead of inviting it', async () => {
    const answer = await raw(h.url, [
      'POST /webhooks/default HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 11534336\r\n\r\n',
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(parse(answer).body).toEqual(errorShape('payload_too_large'));
  });

  it('stops reading a chunked body once it passes the limit (answers 413 while the body is still open)', async () => {
    const chunk = `${(4096).toString(16)}\r\n${'a'.repeat(4096)}\r\n`;
    // 8 KiB then silence, never the terminating chunk: only a server that stopped at the limit answers.
    const answer = parse(
      await raw(h.url, ['POST /webhooks/default HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', chunk, chunk]),
    );
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(errorShape('payload_too_large'));
  });

  it('answers 408 in the error shape to a client that never finishes its body', async () => {
    const answer = parse(await raw(h.url, ['POST /webhooks/default HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"partial":']));
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual(errorShape('request_timeout'));
    for (const name of SECURITY_HEADERS) expect(answer.headers.has(name), name).toBe(true);
  });

  it('has request and header timeouts of at most 30 s by default', async () => {
    const d = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
    try {
      expect(d.http.server.requestTimeout).toBeGreaterThan(0);
      expect(d.http.server.requestTimeout).toBeLessThanOrEqual(30_000);
      expect(d.http.server.headersTimeout).toBeLessThanOrEqual(30_000);
    } finally {
      await d.close();
    }
  });
});

describe("local server: its own errors use the pipeline's shape and security headers", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
  });
  afterAll(() => h.close());

  it.each([
    ['a bad request line', 'GARBAGE\r\n\r\n', 400, 'bad_request'],
    [
      'conflicting Content-Length',
      'POST /webhooks/default HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'bad_request',
    ],
    ['a bad chunk size', 'POST /webhooks/default HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'bad_request'],
    ['a control character in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n', 400, 'bad_request'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'method_not_allowed'],
    ['an unparseable request target', 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'bad_request'],
  ])('%s', async (_name, request, status, code) => {
    const answer = parse(await raw(h.url, [request]));
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual(errorShape(code));
    for (const name of SECURITY_HEADERS) expect(answer.headers.has(name), name).toBe(true);
  });

  it('a handler failure is 502 in the error shape, with the security headers', async () => {
    const failing = await startHarness(
      { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks },
      { webhookHandler: () => () => Promise.reject(new Error('boom at /secret/path.ts')) },
    );
    try {
      const res = await failing.post('/webhooks/default', '{}');
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual(errorShape('bad_gateway'));
      expect(text).not.toContain('boom');
      for (const name of SECURITY_HEADERS) expect(res.headers.has(name), name).toBe(true);
    } finally {
      await failing.close();
    }
  });

  it.each([
    ['POST', '/webhook/default'],
    ['PUT', '/webhooks'],
    ['DELETE', '/x/health'],
    ['GET', '/webhooks/default/health'],
    ['GET', '/health/ready/x'],
    ['OPTIONS', '/nothing'],
  ])('%s %s, a path no route takes, is 404 whatever the method', async (method, path) => {
    // A provider pointed at a mistyped URL got 405 "Only GET is accepted here", and GET then 404; /x/health answered 200.
    const res = await fetch(`${h.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
    expect(await res.json()).toEqual(errorShape('not_found'));
    for (const name of SECURITY_HEADERS) expect(res.headers.has(name), name).toBe(true);
  });

  it('answers the health routes, with or without a trailing slash, and 405 to another method on them', async () => {
    for (const path of ['/health', '/health/', '/health/ready', '/health/ready/'])
      expect((await fetch(`${h.url}${path}`)).status, path).toBe(200);
    const post = await fetch(`${h.url}/health/ready`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    // HEAD answered 200 here and 404 on the deployed front doors, which route GET alone: the same answer as another method.
    for (const path of ['/health', '/health/ready']) {
      const head = await fetch(`${h.url}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(405);
      expect(head.headers.get('allow'), path).toBe('GET');
    }
  });

  it('stays healthy after all of it', async () => {
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
  });
});
