import { randomBytes } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_PART_PREFIX } from '../../core/stores/body-parts.js';
import { DynamoDbDeliveryStore } from '../../core/stores/dynamodb-delivery-store.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/reader-harness.js';

type Item = Record<string, AttributeValue>;

/**
 * `GET /deliveries/{source}/{id}` of a large delivery (its body in part items) that a wrapped handler still holds,
 * over real HTTP: 404, as for any delivery not stored, without reading a part. It read every part (380 KB each,
 * about 95 read units) to answer 404 all the same.
 */
describe('reading a large delivery still processing (real HTTP, dynalite)', () => {
  let h: ReaderHarness;
  let token: string;
  let store: DynamoDbDeliveryStore;
  const partReads: string[] = [];

  beforeAll(async () => {
    h = await startReaderHarness();
    token = (await h.token()).token;
    store = new DynamoDbDeliveryStore({ client: h.client, tableName: h.config.tables.deliveries });
    h.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: Item }).Key?.pk?.S;
        if (context.commandName === 'GetItemCommand' && key?.startsWith(BODY_PART_PREFIX)) partReads.push(key);
        return next(args);
      },
      { step: 'initialize', name: 'partReads' },
    );
  });
  afterAll(() => h.close());

  it('is 404 without a part read while processing, and the body whole once stored', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const body = Buffer.from(JSON.stringify({ type: 'file.uploaded', data: randomBytes(450_000).toString('base64') }));
    const record = {
      source: 'default',
      deliveryId: `msg_held_${nowSeconds}`,
      receivedAt: Date.now(),
      expiresAt: nowSeconds + 600,
      headers: {},
      body,
      clientIp: '203.0.113.1',
    };
    const claimed = await store.claim(record, { nowSeconds, leaseSeconds: 60 });
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    partReads.length = 0;
    const held = await h.get(`/deliveries/default/${record.deliveryId}`, token);
    expect(held.status).toBe(404);
    expect(partReads).toEqual([]);
    await store.complete(record.source, record.deliveryId, claimed.token);
    const stored = await h.get(`/deliveries/default/${record.deliveryId}`, token);
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { body: string }).body).toBe(body.toString('utf8'));
    expect(partReads).toHaveLength(2);
  });
});
