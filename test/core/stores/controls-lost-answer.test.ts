import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbControlsStore } from '../../../core/stores/controls-store.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { dropAnswers } from '../../helpers/lost-answer.js';

const NOW = 1_800_000_000;

describe('a containment write whose first answer is lost on the way back (the SDK sends it again)', () => {
  let local: LocalStore;
  let client: DynamoDBClient;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterEach(() => client?.destroy());
  afterAll(() => local.close());

  const faulty = () => {
    client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: (input) => String(input.UpdateExpression).includes('REMOVE') });
    return { store: new DynamoDbControlsStore({ client, tableName: RATE_LIMITS_TABLE.localName }), fault };
  };
  const honest = () => new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });

  it('unblock: the block it removed is reported removed, not "was not blocked"', async () => {
    await honest().block({ range: '203.0.113.70', expiresAt: NOW + 3600, reason: 'test', createdAt: NOW });
    const { store, fault } = faulty();
    expect(await store.unblock('203.0.113.70')).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect((await honest().load(NOW)).blocks.map((b) => b.range)).not.toContain('203.0.113.70');
    // Nothing to remove is still nothing removed, also when the answer is lost.
    expect(await faulty().store.unblock('203.0.113.71')).toBe(false);
  });

  it('enable: the source it enabled is reported enabled, not "was not disabled"', async () => {
    await honest().disable('lost-answer', 'test', NOW);
    const { store, fault } = faulty();
    expect(await store.enable('lost-answer')).toBe(true);
    expect(fault.dropped()).toBe(1);
    expect((await honest().load(NOW)).disabledSources.map((d) => d.source)).not.toContain('lost-answer');
    expect(await faulty().store.enable('lost-answer')).toBe(false);
  });
});
