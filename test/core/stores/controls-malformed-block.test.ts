import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbControlsStore } from '../../../core/stores/controls-store.js';
import { RATE_LIMITS_KEYS, RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { storeForFaults } from '../../helpers/lost-answer.js';

const NOW = 1_800_000_000;
const KEY = { pk: { S: RATE_LIMITS_KEYS.controls } };

/**
 * A block entry no function enforces (edited by hand in the console: no `expiresAt`, or one typed
 * as a string) must not stop a real block of that range: `block` writes over it. Before, its
 * "never shorter" condition failed on it, `load` dropped it as no block, and `block` wrote again,
 * without end.
 */
describe('block over a stored entry that is no block', () => {
  const stores = storeForFaults();
  let writes = 0;

  /** A store whose client refuses its 20th write: a loop fails the test instead of running on. */
  const bounded = () => {
    const client = stores.client();
    writes = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && ++writes >= 20) throw new Error('block kept writing');
        return next(args);
      },
      { step: 'initialize', name: 'boundWrites' },
    );
    return new DynamoDbControlsStore({ client, tableName: RATE_LIMITS_TABLE.localName });
  };
  const plant = async (range: string, value: Record<string, unknown>) => {
    await new DynamoDbControlsStore({ client: stores.local().client, tableName: RATE_LIMITS_TABLE.localName }).disable('plant', 'x', NOW);
    await stores.local().client.send(
      new UpdateItemCommand({
        TableName: RATE_LIMITS_TABLE.localName,
        Key: KEY,
        UpdateExpression: 'SET blocks.#key = :value',
        ExpressionAttributeNames: { '#key': range },
        ExpressionAttributeValues: { ':value': { M: value as never } },
      }),
    );
  };

  it.each([
    ['no expiresAt', '203.0.113.80', { reason: { S: 'by hand' } }],
    ['expiresAt as a string', '203.0.113.81', { expiresAt: { S: String(NOW + 86_400) }, reason: { S: 'by hand' } }],
  ])('%s: the block is written and in force', async (_name, range, value) => {
    await plant(range, value);
    const entry = { range, expiresAt: NOW + 3600, reason: 'test', createdAt: NOW };
    expect(await bounded().block(entry)).toEqual(entry);
    expect(writes).toBeLessThan(5);
    const store = new DynamoDbControlsStore({ client: stores.local().client, tableName: RATE_LIMITS_TABLE.localName });
    expect((await store.load(NOW)).blocks).toContainEqual(entry);
  });

  it('a longer block still stays', async () => {
    const store = new DynamoDbControlsStore({ client: stores.local().client, tableName: RATE_LIMITS_TABLE.localName });
    const longer = { range: '203.0.113.82', expiresAt: NOW + 86_400, reason: 'day', createdAt: NOW };
    await store.block(longer);
    expect(await bounded().block({ ...longer, expiresAt: NOW + 3600, reason: 'hour' })).toEqual(longer);
    expect(await bounded().block({ ...longer, reason: 'same end' })).toEqual({ ...longer, reason: 'same end' });
  });
});
