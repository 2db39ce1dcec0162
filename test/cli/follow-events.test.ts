import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followEvents, type DeliveryEvent } from '../../cli/consumers/events.js';

/** Writes `parts` one at a time with a pause, so each reaches the client as its own chunk. */
const writeApart = async (res: ServerResponse, parts: readonly string[]): Promise<void> => {
  for (const part of parts) {
    res.write(part);
    await sleep(50);
  }
};

describe('followEvents on a stream with CRLF line ends (a proxy that rewrites them)', () => {
  let server: Server;
  let url = '';
  const delivery = JSON.stringify({ source: 'default', id: 'msg_crlf', receivedAt: '2026-11-30T00:00:00.000Z', eventType: null, size: 2 });
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The CR of "event: delivery\r\n" ends one chunk and its LF starts the next.
      void writeApart(res, ['event: delivery\r', `\nid: MQ\r\ndata: ${delivery}\r\n\r\n`]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // Each chunk's CRLFs were turned into LFs on their own: the lone CR became a line end, and the LF that
  // followed ended the event early, so the delivery arrived as a nameless event and was passed over.
  it('reads a CRLF split across two chunks as one line end, and hands over the delivery', async () => {
    const abort = new AbortController();
    const seen: DeliveryEvent[] = [];
    const following = followEvents(
      { url, token: 'hwk_test', where: 'the test server' },
      {
        signal: abort.signal,
        onDelivery: async (event) => {
          seen.push(event);
          abort.abort();
        },
      },
    );
    await Promise.race([following, sleep(3000)]);
    abort.abort();
    await following;
    expect(seen.map((event) => event.id)).toEqual(['msg_crlf']);
  });
});

describe('followEvents across reconnections', () => {
  let server: Server;
  let url = '';
  /** What each connection's request carried as Last-Event-ID, and how to answer it, in order. */
  const asked: (string | undefined)[] = [];
  let answers: ((res: ServerResponse) => void)[] = [];
  const delivery = (id: string, receivedAt = '2026-11-30T00:00:00.000Z') =>
    `event: delivery\ndata: ${JSON.stringify({ source: 'default', id, receivedAt, eventType: null, size: 2 })}\n`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.headers['last-event-id'] as string | undefined);
      const answer = answers.shift();
      if (answer) answer(res);
      else res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': idle\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const follow = async (until: (seen: DeliveryEvent[], notices: string[]) => boolean) => {
    const abort = new AbortController();
    const seen: DeliveryEvent[] = [];
    const notices: string[] = [];
    const following = followEvents(
      { url, token: 'hwk_test', where: 'the test server' },
      { signal: abort.signal, onDelivery: async (event) => void seen.push(event), onNotice: (text) => void notices.push(text) },
    );
    for (let i = 0; i < 100 && !until(seen, notices); i++) await sleep(50);
    abort.abort();
    await following;
    return { seen, notices };
  };

  // A server that cannot tell which deliveries of its window a resumed client has sends them again.
  it('hands over a delivery the server sends again after a reconnection only once, and still moves its position past it', async () => {
    asked.length = 0;
    answers = [
      (res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`${delivery('msg_a')}id: A\n\n`),
      (res) =>
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`${delivery('msg_a')}id: B\n\n${delivery('msg_b')}id: C\n\n`),
    ];
    const { seen } = await follow(() => asked.length >= 3);
    expect(seen.map((event) => event.id)).toEqual(['msg_a', 'msg_b']);
    expect(asked.slice(0, 3)).toEqual([undefined, 'A', 'C']);
  });

  // A sender may use an id again once its record has expired (7 days): that is another delivery, stored again.
  it('hands over a delivery stored again under the same id at another time', async () => {
    asked.length = 0;
    answers = [
      (res) =>
        res
          .writeHead(200, { 'content-type': 'text/event-stream' })
          .end(`${delivery('msg_a')}id: A\n\n${delivery('msg_a', '2026-12-08T00:00:00.000Z')}id: B\n\n`),
    ];
    const { seen } = await follow(() => asked.length >= 2);
    expect(seen.map((event) => event.receivedAt)).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-08T00:00:00.000Z']);
  });

  it('says "connected", not "reconnected", when its first answer came only after a refusal', async () => {
    asked.length = 0;
    answers = [
      (res) => res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"error":{"code":"unavailable"}}'),
    ];
    const { notices } = await follow((_, notices) => notices.length >= 2);
    expect(notices[0]).toMatch(/503/);
    expect(notices[1]).toBe('connected to the test server');
  });
});
