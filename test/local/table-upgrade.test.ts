import { CreateTableCommand, DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbDeliveryFeed } from '../../core/stores/delivery-feed.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERIES_BY_TIME, DELIVERIES_TABLE, TABLES } from '../../core/stores/tables.js';
import { createTables, startLocalStore, type LocalStore } from '../../local/dynamo.js';

describe('a data directory made by an earlier version', () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());

  it('gets the byTime index added to its deliveries table, its stored deliveries in it', async () => {
    const name = 'old-deliveries';
    await local.client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const now = Date.now();
    const item = (id: string, status: string) => ({
      pk: { S: `default#${id}` },
      source: { S: 'default' },
      deliveryId: { S: id },
      receivedAt: { N: String(now) },
      expiresAt: { N: String(Math.floor(now / 1000) + 600) },
      status: { S: status },
      bodyBytes: { N: '2' },
    });
    await local.client.send(new PutItemCommand({ TableName: name, Item: item('old_1', 'stored') }));
    await local.client.send(new PutItemCommand({ TableName: name, Item: item('held_1', 'processing') }));
    await createTables(local.client, [{ ...DELIVERIES_TABLE, localName: name }]);
    const feed = new DynamoDbDeliveryFeed({ client: local.client, tableName: name });
    const page = await feed.newest({ limit: 10, nowSeconds: Math.floor(now / 1000) });
    expect(page.entries.map((e) => e.deliveryId)).toEqual(['old_1']);
    const described = await local.client.send(new DescribeTableCommand({ TableName: name }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([DELIVERIES_BY_TIME.name]);
    // Idempotent.
    await createTables(local.client, TABLES);
    await createTables(local.client, [{ ...DELIVERIES_TABLE, localName: name }]);
  });
});
