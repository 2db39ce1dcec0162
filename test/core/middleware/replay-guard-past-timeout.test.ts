import { describe, expect, it } from 'vitest';
import { markRunsOnPastTimeout } from '../../../core/index.js';
import { replayGuard } from '../../../core/middleware/replay-guard/index.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DELIVERIES_TABLE } from '../../../core/stores/tables.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { jsonLinesDuring } from '../../helpers/json-lines.js';
import { storeForFaults } from '../../helpers/lost-answer.js';
import { authenticRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
let n = 0;

/**
 * An authentic delivery as the replay guard sees it, under a context marked as the local server marks it, whose
 * remaining time the test sets: the local server's 10 s, then none once the handler has run past them.
 */
const request = () => {
  const deliveryId = `msg_past_${++n}`;
  const req = authenticRequest(deliveryId, sources.get('default'));
  let remainingMs = 10_000;
  Object.assign(req.context, { getRemainingTimeInMillis: () => remainingMs });
  markRunsOnPastTimeout(req.context);
  return { req, deliveryId, outlive: () => (remainingMs = 0) };
};

// The local server marks its contexts (nothing there ends a handler at the timeout) and still says 10 s of time: a
// handler that ran past them, the case the lease is renewed for, has none left. Its complete and release were bounded
// by that time, aborted before they were sent, and the record stayed `processing` until its lease passed: the sender's
// retry then took it over and ran the handler a second time.
describe('replayGuard when a handler runs past the local server’s timeout', () => {
  const stores = storeForFaults();
  const telemetry = createTelemetry();
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('completes the record of a handler that answered 2xx after its time ran out', async () => {
    const store = new DynamoDbDeliveryStore({ client: stores.client(), tableName: DELIVERIES_TABLE.localName });
    const guard = replayGuard({ store, telemetry });
    const { req, deliveryId, outlive } = request();
    await guard.before!(req);
    outlive();
    req.response = { statusCode: 202, body: '' };
    const lines = await jsonLinesDuring(() => guard.after!(req));
    expect(lines.filter((l) => l.level === 'ERROR' || l.level === 'WARN')).toEqual([]);
    expect(await store.stateOf('default', deliveryId, nowSeconds())).toEqual({ status: 'stored' });
  });

  it('releases the record of a handler that threw after its time ran out', async () => {
    const store = new DynamoDbDeliveryStore({ client: stores.client(), tableName: DELIVERIES_TABLE.localName });
    const guard = replayGuard({ store, telemetry });
    const { req, deliveryId, outlive } = request();
    await guard.before!(req);
    outlive();
    req.error = new Error('the handler failed');
    const lines = await jsonLinesDuring(() => guard.onError!(req));
    expect(lines.filter((l) => l.level === 'ERROR' || l.level === 'WARN')).toEqual([]);
    expect(await store.stateOf('default', deliveryId, nowSeconds())).toBeUndefined();
  });
});
