import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a receiver got it: exact body bytes and headers. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A local app that deliveries are forwarded to: records every request, answers `status`. */
export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** The status the next answers carry. @default 200 */
  status: number;
  /** A `Location` the next answers carry (a redirect, with a 3xx status). */
  location?: string;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 at a free port. */
export const startReceiver = async (): Promise<Receiver> => {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: '',
    received,
    status: 200,
    waitFor: (count, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(received);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver got ${received.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    server: createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.statusCode = receiver.status;
        if (receiver.location !== undefined) res.setHeader('Location', receiver.location);
        res.end('ok');
        for (const w of [...waiters]) w();
      });
    }),
    close: () =>
      new Promise<void>((resolve) => {
        receiver.server.closeAllConnections();
        receiver.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    receiver.server.once('error', reject);
    receiver.server.listen(0, '127.0.0.1', resolve);
  });
  (receiver as { url: string }).url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks`;
  return receiver;
};
