// HTTP/1.1 written and read by hand over node:net, so that a request can carry
// anything (duplicate lines, bytes no client library would send) and every
// answer is seen exactly as the server wrote it.
import { connect } from 'node:net';

/** One header line as sent: any name, any bytes (latin1). */
export type HeaderLine = readonly [name: string, value: string];

/** One HTTP answer as parsed from the wire. */
export interface WireAnswer {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What came back on one connection. */
export interface WireResult {
  /** Every answer, in order (more than one if the server read a second request from the bytes). */
  readonly answers: readonly WireAnswer[];
  /** The server wrote nothing and closed, or held the connection past the wait. */
  readonly outcome: 'answered' | 'closed' | 'held';
  /** Bytes that did not parse as an answer (a server writing garbage is a finding). */
  readonly garbage: number;
}

/**
 * A request as bytes: request line, `Host`, the given lines, `Connection: close`
 * and a `Content-Length` unless the lines set their own framing.
 */
export const httpRequest = (method: string, path: string, headers: readonly HeaderLine[], body: Buffer = Buffer.alloc(0)): Buffer => {
  const framed = headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([n, v]) => `${n}: ${v}`)];
  if (!framed && (body.length > 0 || method !== 'GET')) lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
};

const HEAD_END = Buffer.from('\r\n\r\n');

/** Decodes a chunked body; `undefined` when the chunks are incomplete. */
const dechunk = (data: Buffer, from: number): { body: Buffer; end: number } | undefined => {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) {
      const trailerEnd = data.indexOf(HEAD_END, eol);
      return { body: Buffer.concat(parts), end: trailerEnd < 0 ? data.length : trailerEnd + 4 };
    }
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
};

/** Splits everything the server wrote into answers. */
export const parseAnswers = (data: Buffer, headRequest = false): { answers: WireAnswer[]; garbage: number } => {
  const answers: WireAnswer[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf(HEAD_END, at);
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(at, Math.min(data.length, at + 32)).toString('latin1'));
    if (headEnd < 0 || !statusLine) break;
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const line of data.subarray(at, headEnd).toString('latin1').split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(statusLine[1]);
    let body: Buffer;
    let next: number;
    const bodyStart = headEnd + 4;
    if (headRequest || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      next = bodyStart;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunked = dechunk(data, bodyStart);
      body = chunked?.body ?? data.subarray(bodyStart);
      next = chunked?.end ?? data.length;
    } else if (headers['content-length'] !== undefined) {
      next = bodyStart + Number(headers['content-length']);
      body = data.subarray(bodyStart, next);
    } else {
      body = data.subarray(bodyStart);
      next = data.length;
    }
    answers.push({ status, headers, body });
    at = next;
  }
  return { answers, garbage: data.length - at };
};

/**
 * Writes the bytes to a fresh connection and reads until the server closes it.
 * `waitMs` bounds the wait: a server still waiting for more of a request at
 * that point counts as `held` and the connection is dropped.
 */
export const exchange = (port: number, bytes: Buffer, waitMs: number, headRequest = false): Promise<WireResult> =>
  new Promise((resolve) => {
    const received: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (held: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(received);
      const { answers, garbage } = parseAnswers(data, headRequest);
      resolve({ answers, garbage, outcome: answers.length > 0 ? 'answered' : held ? 'held' : 'closed' });
    };
    const timer = setTimeout(() => finish(true), waitMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // The server closing its side means it has answered all it will; it may never read the rest of a long request.
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    // A server that answers early and closes may reset a connection still being written to: what was read still counts.
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write(bytes));
  });
