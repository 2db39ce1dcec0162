import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepLease, type HeldLease } from '../../../core/middleware/replay-guard/lease-keeper.js';
import { createDynamoDbClient } from '../../../core/stores/dynamodb-client.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { countCalls } from '../../helpers/harness.js';
import { jsonLinesDuring } from '../../helpers/json-lines.js';
import { deliveryRecord } from '../../helpers/stored-delivery.js';

const LEASE_SECONDS = 3;
/** A third of the lease, the renewal period, and a little more. */
const TICK_MS = 1_250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;

// The lease keeper against dynalite, on the real clock: a 3 s lease is renewed every second.
describe('keepLease', () => {
  let local: LocalStore;
  let store: DynamoDbDeliveryStore;
  let calls: ReturnType<typeof countCalls>;
  const held: HeldLease[] = [];
  beforeAll(async () => {
    local = await startLocalStore();
    const client = createDynamoDbClient({ endpoint: local.endpoint, region: 'local' });
    calls = countCalls(client);
    store = new DynamoDbDeliveryStore({ client, tableName: DELIVERIES_TABLE.localName });
  });
  afterAll(async () => {
    for (const lease of held) lease.stop();
    await local.close();
  });

  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const updates = () => calls.calls.filter((c) => c.command === 'UpdateItem').length;

  /** A delivery claimed now with the 3 s lease, and its keeper. */
  const claimed = async (options: { renew: boolean; store?: DynamoDbDeliveryStore; leaseSeconds?: number; now?: () => number }) => {
    const leaseSeconds = options.leaseSeconds ?? LEASE_SECONDS;
    const r = deliveryRecord(`keeper_${++n}`, nowSeconds());
    const claim = await store.claim(r, { nowSeconds: nowSeconds(), leaseSeconds });
    if (claim.outcome !== 'claimed') throw new Error('not claimed');
    const lease = keepLease({
      store: options.store ?? store,
      source: r.source,
      deliveryId: r.deliveryId,
      token: claim.token,
      leaseSeconds,
      leaseExpiresAt: nowSeconds() + leaseSeconds,
      now: options.now ?? Date.now,
      renew: options.renew,
      telemetry: createTelemetry(),
    });
    held.push(lease);
    return { r, lease };
  };

  it('renews every third of the lease while it runs, and writes nothing more once stopped', async () => {
    const { r, lease } = await claimed({ renew: true });
    const first = lease.leaseExpiresAt;
    await sleep(2 * TICK_MS);
    const state = await store.stateOf(r.source, r.deliveryId, nowSeconds());
    expect(state).toMatchObject({ status: 'processing' });
    expect(state?.leaseExpiresAt).toBeGreaterThan(first);
    expect(lease.leaseExpiresAt).toBe(state?.leaseExpiresAt);
    lease.stop();
    const written = updates();
    await sleep(TICK_MS);
    expect(updates()).toBe(written);
  });

  it('never shortens the lease when the wall clock steps back: it moves on with the time that has passed', async () => {
    let offsetMs = 0;
    const { r, lease } = await claimed({ renew: true, now: () => Date.now() + offsetMs });
    const first = lease.leaseExpiresAt;
    // An NTP correction (or an operator) sets the clock back two minutes just after the claim.
    offsetMs = -120_000;
    await sleep(2 * TICK_MS);
    lease.stop();
    const stored = (await store.stateOf(r.source, r.deliveryId, nowSeconds()))?.leaseExpiresAt ?? 0;
    // The old keeper wrote about first - 120 here: a copy with a right clock would have taken the delivery over.
    expect(stored).toBeGreaterThan(first);
    expect(stored).toBeLessThanOrEqual(nowSeconds() + LEASE_SECONDS);
    expect(lease.leaseExpiresAt).toBe(stored);
  });

  it('stops by itself once another claim holds the record, and changes nothing of it', async () => {
    const { r, lease } = await claimed({ renew: true });
    const takenAt = nowSeconds() + 100;
    const taken = await store.claim(r, { nowSeconds: takenAt, leaseSeconds: 60 });
    expect(taken.outcome).toBe('claimed');
    await sleep(TICK_MS);
    const written = updates();
    await sleep(TICK_MS);
    expect(updates()).toBe(written);
    expect((await store.stateOf(r.source, r.deliveryId, takenAt))?.leaseExpiresAt).toBe(takenAt + 60);
    expect(lease.leaseExpiresAt).toBeLessThanOrEqual(nowSeconds() + LEASE_SECONDS);
  });

  it('never renews where the runtime ends the handler (renew: false, Lambda)', async () => {
    const before = updates();
    const { lease } = await claimed({ renew: false });
    await sleep(TICK_MS);
    expect(updates()).toBe(before);
    expect(lease.leaseExpiresAt).toBeLessThanOrEqual(nowSeconds() + LEASE_SECONDS);
  });

  it('renews a lease of 75 days or more no sooner than a timer can wait, not every millisecond', async () => {
    // 81 days: a third of it does not fit a Node timer, which then fired every millisecond (TimeoutOverflowWarning).
    const leaseSeconds = 7_000_000;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const before = updates();
      const { r, lease } = await claimed({ renew: true, leaseSeconds });
      const claimedLease = lease.leaseExpiresAt;
      await sleep(TICK_MS);
      lease.stop();
      // The first renewal is due in 24 days: none yet (there were hundreds, back to back).
      expect(updates()).toBe(before);
      expect((await store.stateOf(r.source, r.deliveryId, nowSeconds()))?.leaseExpiresAt).toBe(claimedLease);
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('logs a renewal that fails and tries again at the next tick', async () => {
    // A store whose endpoint answers nothing: every renewal fails as an unreachable DynamoDB would.
    const unreachable = new DynamoDbDeliveryStore({
      client: createDynamoDbClient({ endpoint: 'http://127.0.0.1:9', region: 'local', maxAttempts: 1 }),
      tableName: DELIVERIES_TABLE.localName,
    });
    let lease: HeldLease | undefined;
    const lines = await jsonLinesDuring(async () => {
      ({ lease } = await claimed({ renew: true, store: unreachable }));
      await sleep(2 * TICK_MS);
      lease.stop();
    });
    const warnings = lines.filter((l) => l.message === 'could not renew delivery lease');
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings[0]).toMatchObject({ level: 'WARN', source: 'default', deliveryId: expect.stringMatching(/^keeper_/) });
  });
});
