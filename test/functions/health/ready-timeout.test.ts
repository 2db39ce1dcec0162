import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../core/config/index.js';
import { createTelemetry } from '../../../core/telemetry.js';
import { createHealthHandler, createHealthStore } from '../../../functions/health/app.js';
import { localContext } from '../../../local/http-adapter.js';
import { startLocalStore, type LocalStore } from '../../../local/dynamo.js';
import { emptyDir } from '../../helpers/harness.js';
import { readerGet } from '../../helpers/proxy-event.js';
import { stallingStore, type StallingStore } from '../../helpers/stalling-store.js';

// GET /health/ready when the table hangs: the health function's one attempt ends after its request timeout and the
// answer is 503, well inside the function's timeout. Before, the attempt never ended (requestTimeout only warned,
// through console.warn), and API Gateway answered 502/504. The attempt is 300 ms here; 10 s counts as hung.

describe('the health function when DynamoDB hangs', () => {
  let local: LocalStore;
  let stalls: StallingStore;
  beforeAll(async () => {
    local = await startLocalStore();
    stalls = await stallingStore(local.endpoint);
  });
  afterAll(async () => {
    await stalls.close();
    await local.close();
  });

  it('GET /health/ready is 503 unavailable with Retry-After, not a hang, and nothing is printed', async () => {
    const warn = vi.spyOn(console, 'warn');
    const config = loadConfig({}, emptyDir());
    const store = createHealthStore(config, { endpoint: stalls.endpoint, region: 'local', requestTimeoutMs: 300 });
    const handler = createHealthHandler({ config, store, telemetry: createTelemetry() });
    expect((await handler(readerGet('/health/ready', {}), localContext('hookwarden-health'))).statusCode).toBe(200);
    stalls.stall('DescribeTable');
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref());
    const result = await Promise.race([handler(readerGet('/health/ready', {}), localContext('hookwarden-health')), hung]);
    expect(result).not.toBe('hung');
    if (result === 'hung') return;
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error.code).toBe('unavailable');
    expect(result.headers?.['Retry-After']).toBe('5');
    // One attempt, as the function is configured.
    expect(stalls.held()).toBe(1);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });
});
