import { describe, expect, it } from 'vitest';
import { DynamoDbControlsStore } from '../../../core/stores/controls-store.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';

const NOW = 1_800_000_000;

describe('a containment write whose first answer is lost on the way back (the SDK sends it again)', () => {
  const stores = storeForFaults();

  const faulty = () => {
    const client = stores.client();
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: (input) => String(input.UpdateExpression).includes('REMOVE') });
    return { store: new DynamoDbControlsStore({ client, tableName: RATE_LIMITS_TABLE.localName }), fault };
  };
  const honest = () => new DynamoDbControlsStore({ client: stores.local().client, tableName: RATE_LIMITS_TABLE.localName });

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

describe('two blocks of one range', () => {
  const stores = storeForFaults();
  const store = () => new DynamoDbControlsStore({ client: stores.local().client, tableName: RATE_LIMITS_TABLE.localName });
  const entry = (range: string, hours: number, reason: string) => ({ range, expiresAt: NOW + hours * 3600, reason, createdAt: NOW });

  it('a shorter one after a longer one leaves the longer in force, and answers with it', async () => {
    await store().block(entry('203.0.113.79', 24, 'first'));
    expect(await store().block(entry('203.0.113.79', 1, 'second'))).toMatchObject({ expiresAt: NOW + 24 * 3600, reason: 'first' });
    expect((await store().load(NOW)).blocks.find((block) => block.range === '203.0.113.79')).toMatchObject({ reason: 'first' });
  });

  it.each([
    ['the longer listed first', [24, 1]],
    ['the shorter listed first', [1, 24]],
  ])('sent at once, keep the longer (%s)', async (_order, hours) => {
    const range = `203.0.113.${hours[0] === 24 ? 80 : 81}`;
    const [a, b] = await Promise.all(hours.map((h) => store().block(entry(range, h as number, `${h} h`))));
    // Each answer is its own block or a longer one in force when it wrote; the table ends with the longer.
    for (const [answer, h] of [
      [a, hours[0]],
      [b, hours[1]],
    ] as const)
      expect(answer?.expiresAt).toBeGreaterThanOrEqual(NOW + (h as number) * 3600);
    expect((await store().load(NOW)).blocks.find((block) => block.range === range)).toMatchObject({
      expiresAt: NOW + 24 * 3600,
      reason: '24 h',
    });
  });

  it('a block whose answer was lost is the block it wrote (its retry meets its own expiry)', async () => {
    const client = stores.client();
    const fault = dropAnswers(client, 'UpdateItemCommand', { when: (input) => String(input.UpdateExpression).startsWith('SET blocks.') });
    const faulty = new DynamoDbControlsStore({ client, tableName: RATE_LIMITS_TABLE.localName });
    const wanted = entry('203.0.113.82', 2, 'lost answer');
    expect(await faulty.block(wanted)).toEqual(wanted);
    expect(fault.dropped()).toBe(1);
  });
});
