import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { parseAddress, type Address } from '../../../core/net.js';
import { ControlsCache } from '../../../core/stores/controls-cache.js';
import { DynamoDbControlsStore } from '../../../core/stores/controls-store.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

const T0 = 1_800_000_000_000;
const ADDRESS = parseAddress('203.0.113.8') as Address;

/**
 * A team builds the blocklist cache it injects (`withHookwarden(handler, { controls })`) from JavaScript without types:
 * an option that is not what it must be is a ConfigError naming it, never a cache that stops reading the table.
 */
describe('ControlsCache options from JavaScript without types, against dynalite', () => {
  let local: LocalStore;
  let store: DynamoDbControlsStore;
  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
  });
  afterAll(() => local.close());

  it('with its defaults, a block made after the first read applies within 30 s', async () => {
    let clock = T0;
    const cache = new ControlsCache({ store, now: () => clock });
    expect(ControlsCache.isBlocked(await cache.current(), ADDRESS)).toBe(false);
    await store.block({ range: ADDRESS.ip, expiresAt: T0 / 1000 + 3600, reason: 'test', createdAt: T0 / 1000 });
    clock += 30_000;
    expect(ControlsCache.isBlocked(await cache.current(), ADDRESS)).toBe(true);
    await store.unblock(ADDRESS.ip);
  });

  // NaN compared false with every age: the state read first was used for ever, a block made after it never applied.
  it.each<[string, Record<string, unknown>, string]>([
    [
      'refreshMs: NaN',
      { refreshMs: Number.NaN },
      'ControlsCache refreshMs: must be a whole number of milliseconds from 1 to 86400000, got NaN',
    ],
    [
      'maxAgeMs: NaN',
      { maxAgeMs: Number.NaN },
      'ControlsCache maxAgeMs: must be a whole number of milliseconds from 1 to 86400000, got NaN',
    ],
    [
      'maxAgeMs: Infinity',
      { maxAgeMs: Infinity },
      'ControlsCache maxAgeMs: must be a whole number of milliseconds from 1 to 86400000, got Infinity',
    ],
    // 0: every request read again and again, then 503.
    ['refreshMs: 0', { refreshMs: 0 }, 'ControlsCache refreshMs: must be a whole number of milliseconds from 1 to 86400000, got 0'],
    [
      'refreshMs: "15000"',
      { refreshMs: '15000' },
      'ControlsCache refreshMs: must be a whole number of milliseconds from 1 to 86400000, got a string',
    ],
    ['now: a number', { now: T0 }, 'ControlsCache now: must be a function, got a number'],
  ])('%s: a ConfigError naming it', (_name, bad, problem) => {
    expect(() => new ControlsCache({ store, ...bad } as never)).toThrow(new ConfigError([problem]));
  });

  it('a store without load(): a ConfigError, with every other problem', () => {
    expect(() => new ControlsCache({ store: {}, refreshMs: -1 } as never)).toThrow(
      new ConfigError([
        'ControlsCache store: must be an object with load(), such as a DynamoDbControlsStore',
        'ControlsCache refreshMs: must be a whole number of milliseconds from 1 to 86400000, got -1',
      ]),
    );
  });
});
