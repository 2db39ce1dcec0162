import { randomBytes } from 'node:crypto';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { BODY_PART_PREFIX } from '../../../core/stores/body-parts.js';
import type { DeliveryRecord } from '../../../core/stores/delivery-store.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';

const NOW = 1_800_000_000;
const TABLE = DELIVERIES_TABLE.localName;
type Item = Record<string, AttributeValue>;
let n = 0;
/** 600 KB of random bytes: two parts. */
const record = (): DeliveryRecord => ({
  source: 'large',
  deliveryId: `msg_large_lost_${++n}`,
  receivedAt: NOW * 1000,
  expiresAt: NOW + 7 * 86_400,
  headers: {},
  body: randomBytes(600_000),
  clientIp: '203.0.113.1',
});

describe('a claim of a large body whose answer is lost on the way back (dynalite)', () => {
  const stores = storeForFaults();
  const partsOf = async (token: string): Promise<Item[]> => {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await stores.local().client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.filter((i) => i.pk?.S?.startsWith(`${BODY_PART_PREFIX}${token}#`));
  };

  it('taking over an expired lease, still removes the parts of the claim it replaced (they stayed for the retention)', async () => {
    const honest = new DynamoDbDeliveryStore({ client: stores.local().client, tableName: TABLE });
    const r = record();
    // A wrapped handler's claim whose function died: its lease ran out, its record (and parts) expire in 7 days.
    const first = await honest.claim(r, { nowSeconds: NOW - 100, leaseSeconds: 30 });
    if (first.outcome !== 'claimed') throw new Error('not claimed');
    const client = stores.client();
    // The network drops the answer to the record's PutItem (not a part's): with it went the record it replaced.
    const fault = dropAnswers(client, 'PutItemCommand', {
      when: (input) => !String((input.Item as Item | undefined)?.pk?.S).startsWith(BODY_PART_PREFIX),
    });
    const store = new DynamoDbDeliveryStore({ client, tableName: TABLE });
    const second = await store.claim(r, { nowSeconds: NOW, leaseSeconds: 30 });
    expect(fault.dropped()).toBe(1);
    if (second.outcome !== 'claimed') throw new Error('not taken over');
    expect(await partsOf(first.token)).toEqual([]);
    expect(await partsOf(second.token)).toHaveLength(2);
    await store.complete(r.source, r.deliveryId, second.token);
    expect((await honest.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });

  it('of a first claim, is the claim it is and keeps its own parts', async () => {
    const client = stores.client();
    const fault = dropAnswers(client, 'PutItemCommand', {
      when: (input) => !String((input.Item as Item | undefined)?.pk?.S).startsWith(BODY_PART_PREFIX),
    });
    const store = new DynamoDbDeliveryStore({ client, tableName: TABLE });
    const r = record();
    const claimed = await store.claim(r, { nowSeconds: NOW });
    expect(fault.dropped()).toBe(1);
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect(await partsOf(claimed.token)).toHaveLength(2);
    expect((await store.get(r.source, r.deliveryId, NOW))?.body.equals(r.body)).toBe(true);
  });

  it('of the update that marks it stored, is stored (the resent update finds it stored with its token), not a 503', async () => {
    const client = stores.client();
    const fault = dropAnswers(client, 'UpdateItemCommand');
    const store = new DynamoDbDeliveryStore({ client, tableName: TABLE });
    const r = record();
    const claimed = await store.claim(r, { nowSeconds: NOW });
    expect(fault.dropped()).toBe(1);
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect(await partsOf(claimed.token)).toHaveLength(2);
    expect((await store.get(r.source, r.deliveryId, NOW))?.status).toBe('stored');
  });
});
