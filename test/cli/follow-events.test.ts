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
