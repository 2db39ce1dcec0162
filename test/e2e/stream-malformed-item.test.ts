import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';
import { openSse } from '../helpers/sse.js';

interface Summary {
  source: string;
  id: string;
  receivedAt: string;
}

/**
 * A delivery item whose receivedAt no JavaScript Date can hold (edited by hand: DynamoDB takes any number of up to
 * 38 digits). Before, `toISOString` threw: the list was 500 on every page holding it, the event stream stopped at it
 * (and at it again after each resume), and the delivery could not be read.
 */
describe('a delivery item whose receivedAt is past what a Date holds', () => {
  let h: ReaderHarness;
  let token: string;

  beforeAll(async () => {
    h = await startReaderHarness({ settings: { apiRateLimit: { limit: 1000, windowSeconds: 60 } } });
    token = (await h.token()).token;
  });
  afterAll(() => h.close());

  /** Writes a stored delivery of `default` straight into the table, in the index at now, with `receivedAt` as given. */
  const storeEdited = (id: string, receivedAt: string): Promise<number> => h.storeItem(id, { receivedAt: { N: receivedAt } });

  it.each([
    ['past the year 275760', '99999999999999999', 'edited_late'],
    ['before the year -271821', '-99999999999999999', 'edited_early'],
  ])(
    '%s: an open stream sends it and goes on, the list and the delivery answer 200 with the time it was stored',
    async (_, receivedAt, id) => {
      const stream = await openSse(`${h.url}/events`, { authorization: `Bearer ${token}` });
      expect(stream.status).toBe(200);
      const storedAt = await storeEdited(id, receivedAt);
      const after = await h.deliver('default');
      expect(after.status).toBe(202);
      const events = await stream.waitFor(2);
      stream.close();
      const sent = events.map((e) => JSON.parse(e.data) as Summary);
      expect(sent.map((d) => d.id)).toEqual([id, after.id]);
      expect(sent[0]?.receivedAt).toBe(new Date(storedAt).toISOString());

      const list = await h.get('/deliveries?limit=100', token);
      expect(list.status).toBe(200);
      const listed = ((await list.json()) as { deliveries: Summary[] }).deliveries.find((d) => d.id === id);
      expect(listed?.receivedAt).toBe(new Date(storedAt).toISOString());

      const one = await h.get(`/deliveries/default/${id}`, token);
      expect(one.status).toBe(200);
      expect(((await one.json()) as Summary).receivedAt).toBe(new Date(storedAt).toISOString());

      // Resumed from its opening id, a stream has the item in its first read, made before the first byte: it opens.
      const openingId = /^id: (.+)$/m.exec(stream.raw())?.[1] ?? '';
      const opened = await h.get('/events', token, { 'last-event-id': openingId });
      expect(opened.status).toBe(200);
      await opened.body?.cancel();
    },
  );
});
