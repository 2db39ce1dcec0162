import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
