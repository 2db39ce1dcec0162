import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress, type Address } from '../../../core/net.js';
import { ControlsCache } from '../../../core/stores/controls-cache.js';
import { DynamoDbControlsStore, type Controls, type ControlsStore } from '../../../core/stores/controls-store.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';

const T0 = 1_800_000_000_000;
const ADDRESS = parseAddress('203.0.113.7') as Address;

/** The real store, with its reads counted and, when asked, held until released. */
class GatedStore implements ControlsStore {
  loads = 0;
  /** The last read, as the cache sees it (held or not). */
  last: Promise<unknown> = Promise.resolve();
  /** The last read's DynamoDB call (done even while the answer is held). */
  lastCall: Promise<unknown> = Promise.resolve();
  #gate: Promise<void> | undefined;
  #release: (() => void) | undefined;
  constructor(readonly inner: ControlsStore) {}
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#release = resolve));
  }
  release(): void {
    this.#release?.();
    this.#gate = undefined;
  }
  load(nowSeconds: number): Promise<Controls> {
    this.loads++;
    const gate = this.#gate;
    const call = this.inner.load(nowSeconds);
    this.lastCall = call.catch(() => undefined);
    const read = call.then(async (controls) => {
      await gate;
      return controls;
    });
    this.last = read.catch(() => undefined);
    return read;
  }
  block = (...args: Parameters<ControlsStore['block']>) => this.inner.block(...args);
  unblock = (range: string) => this.inner.unblock(range);
  disable = (...args: Parameters<ControlsStore['disable']>) => this.inner.disable(...args);
  enable = (source: string) => this.inner.enable(source);
}

describe('ControlsCache against dynalite, with an injected clock', () => {
  let local: LocalStore;
  beforeAll(async () => {
    local = await startLocalStore();
  });
  afterAll(() => local.close());

  /** A cache on its own controls item (each test starts from an empty blocklist). */
  const setup = async () => {
    const inner = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
    await inner.unblock('203.0.113.7');
    const store = new GatedStore(inner);
    const clock = { now: T0 };
    const cache = new ControlsCache({ store, now: () => clock.now });
    return { store, clock, cache };
  };
  const block = (store: ControlsStore, nowMs: number) =>
    store.block({
      range: '203.0.113.7',
      expiresAt: Math.floor(nowMs / 1000) + 3600,
      reason: 'incident',
      createdAt: Math.floor(nowMs / 1000),
    });

  it('enforces a block made while idle on the first request after the idle period', async () => {
    const { store, clock, cache } = await setup();
    expect(ControlsCache.isBlocked(await cache.current(), ADDRESS)).toBe(false);
    clock.now += 10 * 60_000; // ten idle minutes, no request
    await block(store, clock.now);
    clock.now += 1;
    expect(ControlsCache.isBlocked(await cache.current(), ADDRESS)).toBe(true);
  });

  it('never applies a state older than 30 s, even when a read in flight started before the bound', async () => {
    const { store, clock, cache } = await setup();
    await cache.current();
    clock.now += 15_000;
    store.hold();
    await cache.current(); // starts a background read (held) at +15 s
    await store.lastCall;
    clock.now += 25_000;
    await block(store, clock.now); // at +40 s, after that read
    clock.now += 31_000; // +71 s: both the state and the held read are older than 30 s
    const pending = cache.current();
    store.release();
    expect(ControlsCache.isBlocked(await pending, ADDRESS)).toBe(true);
    expect(store.loads).toBe(3);
  });

  it('adds no wait in steady state: a request every 15 s is answered from the cache while it refreshes', async () => {
    const { store, clock, cache } = await setup();
    await cache.current();
    for (let i = 0; i < 8; i++) {
      clock.now += 15_000;
      store.hold();
      // Resolves although the read it started is held: the request did not wait for it.
      await cache.current();
      const loads = store.loads;
      store.release();
      await store.last;
      await cache.current(); // the held read has landed: nothing more to read
      expect(store.loads).toBe(loads);
    }
    expect(store.loads).toBe(9);
  });

  // The age of the state was the clock's difference: after the clock stepped back an hour, a block made then took an hour
  // and 30 s to apply, not 30 s.
  it('enforces a block made after the clock stepped back within the same 30 s, reading the state again', async () => {
    const { store, clock, cache } = await setup();
    expect(ControlsCache.isBlocked(await cache.current(), ADDRESS)).toBe(false);
    clock.now -= 3_600_000;
    await block(store, clock.now);
    clock.now += 1;
    expect(ControlsCache.isBlocked(await cache.current(), ADDRESS)).toBe(true);
    expect(store.loads).toBe(2);
    // Read once for the step, not on every request after it.
    clock.now += 1_000;
    await cache.current();
    expect(store.loads).toBe(2);
  });

  it('fails closed when the state is past its bound and the store cannot be read', async () => {
    const { store, clock, cache } = await setup();
    await cache.current();
    clock.now += 31_000;
    store.load = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await expect(cache.current()).rejects.toThrow();
  });
});
