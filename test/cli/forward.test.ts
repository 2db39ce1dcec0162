import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet } from '../../cli/consumers/api.js';
import { forwardDelivery, type FetchedDelivery } from '../../cli/consumers/forward.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

describe('forwardDelivery over real HTTP', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const delivery = (headers: Record<string, string>): FetchedDelivery => ({
    source: 'default',
    id: 'msg_1',
    receivedAt: '2026-11-30T00:00:00.000Z',
    eventType: null,
    headers,
    body: Buffer.from('{"n":1}'),
  });

  // A kept header read from the API is a JSON string: on AWS it can hold any character, where a
  // header on the wire is bytes. fetch refuses a character above U+00FF, which failed the whole forward.
  it('forwards a delivery whose kept header holds a character above U+00FF, as its UTF-8 bytes', async () => {
    const before = receiver.received.length;
    const result = await forwardDelivery(delivery({ 'user-agent': 'bot/1 \u2603', 'content-type': 'application/json' }), receiver.url);
    expect(result.status).toBe(200);
    const [got] = (await receiver.waitFor(before + 1)).slice(before);
    expect(got?.body.toString()).toBe('{"n":1}');
    expect(Buffer.from(got?.headers['user-agent'] ?? '', 'latin1').toString('utf8')).toBe('bot/1 \u2603');
    expect(got?.headers['content-type']).toBe('application/json');
  });
});

describe('apiGet against an API that takes the connection and never answers', () => {
  let silent: Server;
  let url = '';
  beforeAll(async () => {
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  // listen reads each delivery with Ctrl+C's signal: that signal replaced the timeout, so one silent
  // answer stopped every forward after it for good.
  it('gives up after its timeout even with a caller signal that never aborts (cannot reach, not a hang)', async () => {
    const target = { url, token: 'hwk_test', where: 'the local server' };
    const read = apiGet(target, '/deliveries/default/msg_1', { signal: new AbortController().signal, timeoutMs: 200 });
    const hung = new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000));
    await expect(Promise.race([read, hung])).rejects.toThrow(/cannot reach the local server/);
  });
});
