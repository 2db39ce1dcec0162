import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containment } from '../../../core/middleware/containment/index.js';
import { parseAddress } from '../../../core/net.js';
import { ControlsCache } from '../../../core/stores/controls-cache.js';
import { DynamoDbControlsStore } from '../../../core/stores/controls-store.js';
import { RATE_LIMITS_TABLE } from '../../../core/stores/tables.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { middyRequest, sourcesFrom } from '../../helpers/middy-request.js';
import { TEST_SECRETS } from '../../helpers/secrets.js';

const NOW = 1_800_000_000_000;
const sources = sourcesFrom({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });

/** A request as containment sees it: source and client resolved. */
const request = (ip = '203.0.113.9') => {
  const req = middyRequest();
  req.context.hookwarden.source = sources.get('default');
  req.context.hookwarden.client = { address: parseAddress(ip)! } as never;
  return req;
};

describe('containment against dynalite', () => {
  let local: LocalStore;
  let store: DynamoDbControlsStore;
  /** A fresh cache per test: its first use reads the table. */
  const cache = () => new ControlsCache({ store, now: () => NOW });

  beforeAll(async () => {
    local = await startLocalStore();
    store = new DynamoDbControlsStore({ client: local.client, tableName: RATE_LIMITS_TABLE.localName });
  });
  afterAll(() => local?.close());

  it('lets a request through when nothing is blocked or disabled', async () => {
    await expect(containment({ controls: cache() }).before!(request())).resolves.toBeUndefined();
  });

  it('refuses a client in a blocked range with 403 ip_blocked, and not its neighbours', async () => {
    await store.block({ range: '203.0.113.0/28', expiresAt: NOW / 1000 + 3600, reason: 'incident', createdAt: NOW / 1000 });
    const guard = containment({ controls: cache() });
    await expect(guard.before!(request('203.0.113.9'))).rejects.toMatchObject({ statusCode: 403, code: 'ip_blocked' });
    await expect(guard.before!(request('203.0.113.17'))).resolves.toBeUndefined();
    await store.unblock('203.0.113.0/28');
  });

  it('fails closed without webhookRoute and ipAllowlist before it', async () => {
    await store.block({ range: '203.0.113.9', expiresAt: NOW / 1000 + 3600, reason: 'incident', createdAt: NOW / 1000 });
    try {
      // The blocked peer, but the client was never resolved: the block must not be silently skipped.
      const guard = containment({ controls: cache() });
      await expect(guard.before!(middyRequest({}, { source: sources.get('default') }))).rejects.toThrow(/ipAllowlist/);
      await expect(guard.before!(middyRequest())).rejects.toThrow(/webhookRoute/);
    } finally {
      await store.unblock('203.0.113.9');
    }
  });

  it('answers a disabled source with 503 source_disabled and Retry-After 300 by default, or as configured', async () => {
    await store.disable('default', 'maintenance', NOW / 1000);
    await expect(containment({ controls: cache() }).before!(request())).rejects.toMatchObject({
      statusCode: 503,
      code: 'source_disabled',
      expose: true,
      headers: { 'Retry-After': '300' },
    });
    await expect(containment({ controls: cache(), disabledRetryAfterSeconds: 60 }).before!(request())).rejects.toMatchObject({
      headers: { 'Retry-After': '60' },
    });
    await store.enable('default');
    await expect(containment({ controls: cache() }).before!(request())).resolves.toBeUndefined();
  });
});
