import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryInProgressError, DuplicateDeliveryError } from '../../../core/errors.js';
import { replayGuard } from '../../../core/middleware/replay-guard/index.js';
import { DynamoDbDeliveryStore } from '../../../core/stores/dynamodb-delivery-store.js';
import { DynamoDbRateLimiter } from '../../../core/stores/dynamodb-rate-limiter.js';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { authenticRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const NOW = 1_800_000_000_000;
const NOW_SECONDS = NOW / 1000;
const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
const limited = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, WEBHOOK_RATE_LIMIT: '1/60s' });
let n = 0;

/** A request as the replay guard sees it: authentic (signature verified), from 203.0.113.9. */
const request = (deliveryId = `msg_rg_${++n}`, source = sources.get('default')) => authenticRequest(deliveryId, source);

describe('replayGuard against dynalite', () => {
  let local: LocalStore;
  let store: DynamoDbDeliveryStore;
  const stored = (id: string) => store.get('default', id, NOW_SECONDS);

  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbDeliveryStore({ client: local.client, tableName: DELIVERIES_TABLE.localName });
  });
  afterAll(() => local?.close());

  it('store mode: one conditional write stores the delivery; a copy is a DuplicateDeliveryError', async () => {
    const guard = replayGuard({ store, mode: 'store', now: () => NOW });
    const first = request();
    await guard.before!(first);
    const id = first.context.hookwarden.delivery!.deliveryId;
    expect((await stored(id))?.status).toBe('stored');
    await expect(guard.before!(request(id))).rejects.toBeInstanceOf(DuplicateDeliveryError);
  });

  it('process mode (the default): processing until after() completes it; a copy meanwhile is 409 in progress', async () => {
    const guard = replayGuard({ store, now: () => NOW, leaseSeconds: 30 });
    const req = request();
    const id = req.context.hookwarden.delivery!.deliveryId;
    await guard.before!(req);
    expect((await stored(id))?.status).toBe('processing');
    await expect(guard.before!(request(id))).rejects.toBeInstanceOf(DeliveryInProgressError);
    req.response = { statusCode: 202, body: '' };
    await guard.after!(req);
    expect((await stored(id))?.status).toBe('stored');
    await expect(guard.before!(request(id))).rejects.toBeInstanceOf(DuplicateDeliveryError);
  });

  it('process mode: onError() removes the record, so the provider retry is processed', async () => {
    const guard = replayGuard({ store, now: () => NOW, leaseSeconds: 30 });
    const req = request();
    const id = req.context.hookwarden.delivery!.deliveryId;
    await guard.before!(req);
    await guard.onError!(req);
    expect(await stored(id)).toBeUndefined();
    await expect(guard.before!(request(id))).resolves.toBeUndefined();
  });

  it('store mode: onError() keeps the stored delivery (a retry is a duplicate)', async () => {
    const guard = replayGuard({ store, mode: 'store', now: () => NOW });
    const req = request();
    await guard.before!(req);
    await guard.onError!(req);
    expect((await stored(req.context.hookwarden.delivery!.deliveryId))?.status).toBe('stored');
  });

  it('refuses over the rate limit with 429 before writing, and answers a copy of a stored delivery as duplicate', async () => {
    const guard = replayGuard({
      store,
      mode: 'store',
      now: () => NOW + 7 * 60_000,
      rateLimiter: new DynamoDbRateLimiter({ client: local.client, tableName: RATE_LIMITS_TABLE.localName }),
    });
    const source = limited.get('default');
    const first = request(undefined, source);
    await guard.before!(first);
    const over = request(undefined, source);
    await expect(guard.before!(over)).rejects.toMatchObject({
      statusCode: 429,
      code: 'rate_limited',
      headers: { 'RateLimit-Policy': '"webhooks";q=1;w=60' },
    });
    expect(await stored(over.context.hookwarden.delivery!.deliveryId)).toBeUndefined();
    await expect(guard.before!(request(first.context.hookwarden.delivery!.deliveryId, source))).rejects.toBeInstanceOf(
      DuplicateDeliveryError,
    );
  });

  it('fails closed when the rate-limits store is down: 503 unavailable with Retry-After, nothing stored', async () => {
    const down = await startLocalStore();
    await down.close();
    const guard = replayGuard({
      store,
      mode: 'store',
      now: () => NOW,
      rateLimiter: new DynamoDbRateLimiter({ client: down.client, tableName: RATE_LIMITS_TABLE.localName }),
    });
    const req = request(undefined, limited.get('default'));
    await expect(guard.before!(req)).rejects.toMatchObject({ statusCode: 503, code: 'unavailable', headers: { 'Retry-After': '5' } });
    expect(await stored(req.context.hookwarden.delivery!.deliveryId)).toBeUndefined();
  });

  it('needs the signature verifier before it', async () => {
    const req = request();
    req.context.hookwarden.delivery = undefined;
    await expect(replayGuard({ store }).before!(req)).rejects.toThrow(/signatureVerifier/);
  });

  // A chain composed with webhookMiddlewares() or replayGuard() and no limiter ignored the source's
  // rateLimit without a word: every delivery passed unlimited.
  it('refuses to run a source that sets a rate limit without a rateLimiter, and leaves it unenforced only for an explicit false', async () => {
    const source = limited.get('default');
    const refused = request(undefined, source);
    await expect(replayGuard({ store, mode: 'store', now: () => NOW }).before!(refused)).rejects.toThrow(
      /source "default" sets a rate limit but no rateLimiter was given/,
    );
    expect(await stored(refused.context.hookwarden.delivery!.deliveryId)).toBeUndefined();
    const unlimited = replayGuard({ store, mode: 'store', rateLimiter: false, now: () => NOW });
    for (const req of [request(undefined, source), request(undefined, source)]) await unlimited.before!(req);
  });
});
