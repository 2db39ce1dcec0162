import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROD_RESERVED_CONCURRENCY, readSettings } from '../../lib/settings.js';
import { prodSettings, settingsFor, sourceFor, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('context reservedConcurrency', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const read = (context: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'hookwarden-concurrency-'));
    dirs.push(dir);
    return readSettings((key) => context[key], {}, dir);
  };

  it('reserves 100 for the webhook function in prod and none in dev, unless told otherwise', () => {
    expect(read({ stage: 'prod' }).settings.reservedConcurrency).toBe(PROD_RESERVED_CONCURRENCY);
    expect(PROD_RESERVED_CONCURRENCY).toBe(100);
    expect(read({}).settings.reservedConcurrency).toBeUndefined();
    expect(read({ stage: 'prod', reservedConcurrency: '250' }).settings.reservedConcurrency).toBe(250);
    expect(read({ reservedConcurrency: 20 }).settings.reservedConcurrency).toBe(20);
    // An account whose quota cannot spare a reservation (Lambda keeps 100 unreserved).
    expect(read({ stage: 'prod', reservedConcurrency: 'none' }).settings.reservedConcurrency).toBeUndefined();
  });

  it.each([['0'], ['-5'], ['lots'], [1.5], ['100001'], [true]])('refuses %j, listed with every other problem', (value) => {
    const { problems } = read({ reservedConcurrency: value, stage: 'staging' });
    expect(problems).toContainEqual(
      `context reservedConcurrency: must be a whole number from 1 to 100000, or "none", got ${JSON.stringify(value)}`,
    );
    expect(problems.join('\n')).toMatch(/context stage/);
  });
});

describe.each([
  ['prod', prodSettings(), 100],
  ['prod, -c reservedConcurrency=none', prodSettings({ reservedConcurrency: undefined }), undefined],
  ['dev', settingsFor(), undefined],
  ['dev behind an HTTP API, -c reservedConcurrency=30', settingsFor({ frontDoor: 'http-api', reservedConcurrency: 30 }), 30],
])('the %s stack', (_name, settings, expected) => {
  const { stack, template } = synth({
    ...settings,
    // A rotated and a manual source: the rotation function and the key-age check exist, and reserve nothing.
    sources: [
      sourceFor(),
      sourceFor({
        name: 'team',
        scheme: 'hmac',
        hmac: { header: 'x-signature' },
        rotation: { mode: 'shared', every: '7d', overlap: '24h' },
      }),
    ],
  });
  const resources = template().toJSON().Resources as Record<string, Resource>;
  const webhookId = stack.getLogicalId(stack.functions.webhook.node.defaultChild as never);

  it('reserves concurrency for the webhook function only', () => {
    expect(resources[webhookId]?.Properties.ReservedConcurrentExecutions).toBe(expected);
    const others = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id !== webhookId);
    expect(others.length).toBeGreaterThanOrEqual(3);
    for (const [id, r] of others) expect(r.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
  });

  it("still alarms on the webhook function's throttles, which a reservation reached makes (AWS/Lambda Throttles, one is enough)", () => {
    const throttles = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.MetricName === 'Throttles' &&
        JSON.stringify(r.Properties.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: webhookId } }]),
    );
    expect(throttles).toHaveLength(1);
    expect(throttles[0]?.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 });
  });
});
