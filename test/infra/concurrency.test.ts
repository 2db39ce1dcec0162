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
  ['prod', prodSettings(), 100, 2],
  ['prod, -c reservedConcurrency=none', prodSettings({ reservedConcurrency: undefined }), undefined, undefined],
  ['dev', settingsFor(), undefined, undefined],
  ['dev behind an HTTP API, -c reservedConcurrency=30', settingsFor({ frontDoor: 'http-api', reservedConcurrency: 30 }), 30, 2],
])('the %s stack', (_name, settings, expected, rotationExpected) => {
  const { stack, template } = synth({
    ...settings,
    // Two rotated sources and a manual one: the rotation function and the key-age check exist.
    sources: [
      sourceFor(),
      ...['team', 'ops'].map((name) =>
        sourceFor({ name, scheme: 'hmac', hmac: { header: 'x-signature' }, rotation: { mode: 'shared', every: '7d', overlap: '24h' } }),
      ),
    ],
  });
  const resources = template().toJSON().Resources as Record<string, Resource>;
  const webhookId = stack.getLogicalId(stack.functions.webhook.node.defaultChild as never);
  const rotationId = stack.getLogicalId(stack.rotation.rotationFunction?.node.defaultChild as never);

  // A flood on another function of the account took the unreserved pool, and a rotation step was throttled (the
  // rotation failed). One execution per rotated source: Secrets Manager runs one step of a secret at a time, so the cap
  // that comes with a reservation never throttles a rotation itself.
  it('reserves concurrency for the webhook function, and one execution per rotated source for the rotation function, with it', () => {
    expect(resources[webhookId]?.Properties.ReservedConcurrentExecutions).toBe(expected);
    expect(resources[rotationId]?.Properties.ReservedConcurrentExecutions).toBe(rotationExpected);
    const others = Object.entries(resources).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id !== webhookId && id !== rotationId,
    );
    expect(others.length).toBeGreaterThanOrEqual(2);
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
