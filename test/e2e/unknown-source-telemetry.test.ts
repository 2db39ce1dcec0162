import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../core/pipeline.js';
import { LOGGED_TEXT_MAX_CHARS, UNKNOWN_SOURCE } from '../../core/telemetry.js';
import { localContext } from '../../local/http-adapter.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { jsonLinesDuring } from '../helpers/json-lines.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('a request for an unknown source never becomes a metric dimension', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks });
  });
  afterAll(() => h.close());

  const metricsOf = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l._aws !== undefined);

  it.each([
    ['a made-up name', 'attacker-chosen-1'],
    ['an escape sequence', '%1B%5B31mred%1B%5B0m%C2%9B2J'],
    ['a bidi override', 'abc%E2%80%AEfdp.exe'],
    ['a very long name', 'x'.repeat(4000)],
  ])('%s: 404, counted under one fixed source, logged escaped and cut', async (_name, segment) => {
    const lines = await jsonLinesDuring(async () => {
      for (const method of ['POST', 'GET'])
        expect((await fetch(`${h.url}/webhooks/${segment}`, { method, body: method === 'POST' ? '{}' : null })).status).toBe(404);
    });
    const metrics = metricsOf(lines);
    expect(metrics.filter((m) => 'DeliveryRejected' in m)).toHaveLength(2);
    for (const metric of metrics) expect(metric.source ?? UNKNOWN_SOURCE).toBe(UNKNOWN_SOURCE);
    const decoded = decodeURIComponent(segment);
    expect(JSON.stringify(metrics)).not.toContain(decoded.slice(0, 20));

    const events = lines.filter((l) => l.message === 'webhook rejected').map((l) => l.securityEvent as { source: string; path: string });
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event.source).toBe(UNKNOWN_SOURCE);
      expect(event.path.startsWith('/webhooks/')).toBe(true);
      expect(Array.from(event.path).length).toBeLessThanOrEqual(LOGGED_TEXT_MAX_CHARS);
      expect(event.path).not.toMatch(UNPRINTABLE);
    }
    // Nothing in any line carries the requested name raw beyond the bound.
    expect(JSON.stringify(lines)).not.toContain('x'.repeat(LOGGED_TEXT_MAX_CHARS));
  });

  it('counts a configured source by its name, as before', async () => {
    const lines = await jsonLinesDuring(() => h.post('/webhooks/default', '{}'));
    expect(metricsOf(lines).find((m) => 'DeliveryRejected' in m)).toMatchObject({ source: 'default', code: 'signature_invalid' });
  });

  it('escapes a path that arrives decoded (as API Gateway may hand it over)', async () => {
    const handler = createWebhookHandler(h.deps);
    const raw = '/webhooks/\u001b[2J\u001b]0;owned\u0007\u202eevil\u2028next\\x1b';
    const lines = await jsonLinesDuring(() =>
      handler(
        {
          resource: '/webhooks/{source}',
          path: raw,
          httpMethod: 'POST',
          headers: {},
          multiValueHeaders: {},
          pathParameters: { source: raw.slice('/webhooks/'.length) },
          queryStringParameters: null,
          multiValueQueryStringParameters: null,
          stageVariables: null,
          body: '{}',
          isBase64Encoded: false,
          requestContext: { requestId: 'req-escape', identity: { sourceIp: '203.0.113.9' } },
        } as unknown as APIGatewayProxyEvent,
        localContext('test'),
      ),
    );
    const event = lines.find((l) => l.message === 'webhook rejected')?.securityEvent as { source: string; path: string };
    expect(event.source).toBe(UNKNOWN_SOURCE);
    expect(event.path).toBe('/webhooks/\\x1b[2J\\x1b]0;owned\\x07\\u202eevil\\u2028next\\\\x1b');
    expect(JSON.stringify(lines)).not.toMatch(/\\u001b|\u202e|\u2028/);
  });
});
