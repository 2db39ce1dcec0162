import { describe, expect, it } from 'vitest';
import { DeliveryInProgressError } from '../../../core/errors.js';
import { markRunsOnPastTimeout } from '../../../core/index.js';
import { replayGuard } from '../../../core/middleware/replay-guard/index.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { jsonLinesDuring } from '../../helpers/json-lines.js';
import { dropAnswers, storeForFaults } from '../../helpers/lost-answer.js';
import { authenticRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';
import { deliveryRecord } from '../../helpers/stored-delivery.js';

const NOW_SECONDS = 1_800_000_000;
const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
let n = 0;

/** An authentic delivery as the replay guard sees it, under a Lambda context (10 s left; never marked). */
const request = (deliveryId = `msg_lost_${++n}`) => authenticRequest(deliveryId, sources.get('default'));

const leaseLines = (lines: Array<Record<string, unknown>>) => ({
  warnings: lines.filter((l) => typeof l.message === 'string' && l.message.startsWith('delivery lease lost')),
  metrics: lines.filter((l) => 'DeliveryLeaseLost' in l),
});

// The caller of complete and release (the replay guard) against dynalite: the store stays silent (no error); the
// guard must not, and must not cry wolf either.
describe('replayGuard when the lease of a handler still running runs out', () => {
  const stores = storeForFaults();
  const telemetry = createTelemetry();

  it('warns (source, delivery id, step, lease) and counts DeliveryLeaseLost when complete finds another claim', async () => {
    const store = new DynamoDbDeliveryStore({ client: stores.local().client, tableName: DELIVERIES_TABLE.localName });
    let clock = NOW_SECONDS * 1000;
    const guard = replayGuard({ store, telemetry, now: () => clock, leaseSeconds: 30 });
    const req = request();
    const id = req.context.hookwarden.delivery!.deliveryId;
    await guard.before!(req);
    // A retry 60 s on took the expired lease over (a runtime that did not end the handler at its timeout).
    expect((await store.claim(deliveryRecord(id, NOW_SECONDS + 60), { nowSeconds: NOW_SECONDS + 60, leaseSeconds: 30 })).outcome).toBe(
      'claimed',
    );
    clock += 61_000;
    req.response = { statusCode: 202, body: '' };
    const { warnings, metrics } = leaseLines(await jsonLinesDuring(() => guard.after!(req)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 'WARN',
      source: 'default',
      deliveryId: id,
      step: 'complete',
      leaseExpiresAt: NOW_SECONDS + 30,
    });
    expect(metrics).toEqual([expect.objectContaining({ DeliveryLeaseLost: 1, service: 'hookwarden' })]);
    expect(JSON.stringify(warnings)).not.toContain('"type":"t"');
    expect(req.response.statusCode).toBe(202);
  });

  it('says nothing of a release whose resent delete finds the sender’s new claim while its own lease still runs', async () => {
    const tableName = DELIVERIES_TABLE.localName;
    const honest = new DynamoDbDeliveryStore({ client: stores.local().client, tableName });
    const client = stores.client();
    const store = new DynamoDbDeliveryStore({ client, tableName });
    const guard = replayGuard({ store, telemetry, now: () => NOW_SECONDS * 1000, leaseSeconds: 30 });
    const req = request();
    const id = req.context.hookwarden.delivery!.deliveryId;
    await guard.before!(req);
    // The delete lands, its answer is lost, the sender's retry claims the delivery anew, the SDK resends the delete.
    const fault = dropAnswers(client, 'DeleteItemCommand', {
      between: () => honest.claim(deliveryRecord(id, NOW_SECONDS + 1), { nowSeconds: NOW_SECONDS + 1, leaseSeconds: 30 }),
    });
    const lines = await jsonLinesDuring(() => guard.onError!(req));
    expect(fault.attempts()).toBe(2);
    expect(leaseLines(lines)).toEqual({ warnings: [], metrics: [] });
  });

  it('holds a copy off past the lease only under a context marked with markRunsOnPastTimeout; a Lambda one is taken over as before', async () => {
    const store = new DynamoDbDeliveryStore({ client: stores.local().client, tableName: DELIVERIES_TABLE.localName });
    let clock = NOW_SECONDS * 1000;
    const guard = replayGuard({ store, telemetry, now: () => clock, leaseSeconds: 30 });
    const marked = request();
    markRunsOnPastTimeout(marked.context);
    const lambda = request();
    await guard.before!(marked);
    await guard.before!(lambda);
    clock += 60_000;
    await expect(guard.before!(request(marked.context.hookwarden.delivery!.deliveryId))).rejects.toBeInstanceOf(DeliveryInProgressError);
    const retry = request(lambda.context.hookwarden.delivery!.deliveryId);
    await expect(guard.before!(retry)).resolves.toBeUndefined();
    expect(retry.context.hookwarden.claim).toBeDefined();
    // Both first runs finish (the Lambda one after its takeover: reported, and silenced here).
    await jsonLinesDuring(async () => {
      for (const req of [marked, lambda, retry]) {
        req.response = { statusCode: 202, body: '' };
        await guard.after!(req);
      }
    });
  });

  it('warns for a release that finds another claim once its lease has passed', async () => {
    const store = new DynamoDbDeliveryStore({ client: stores.local().client, tableName: DELIVERIES_TABLE.localName });
    let clock = NOW_SECONDS * 1000;
    const guard = replayGuard({ store, telemetry, now: () => clock, leaseSeconds: 30 });
    const req = request();
    const id = req.context.hookwarden.delivery!.deliveryId;
    await guard.before!(req);
    await store.claim(deliveryRecord(id, NOW_SECONDS + 60), { nowSeconds: NOW_SECONDS + 60, leaseSeconds: 30 });
    clock += 61_000;
    const { warnings, metrics } = leaseLines(await jsonLinesDuring(() => guard.onError!(req)));
    expect(warnings).toEqual([expect.objectContaining({ source: 'default', deliveryId: id, step: 'release' })]);
    expect(metrics).toHaveLength(1);
    expect(await store.stateOf('default', id, NOW_SECONDS + 61)).toMatchObject({ status: 'processing' });
  });
});
