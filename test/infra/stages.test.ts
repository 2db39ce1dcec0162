import { App, Aws, Lazy, Stage as CdkStage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HookwardenStack } from '../../lib/hookwarden-stack.js';
import type { DeploymentSettings } from '../../lib/settings.js';
import { resolveIntrinsics } from './intrinsics.js';
import { NO_BUNDLING, prodSettings, settingsFor, sourceFor, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Dimensions = Record<string, string>;
/** A metric as CloudWatch identifies it; `metricName` undefined: every metric name. */
type MetricId = { namespace: string; metricName?: string; dimensions: Dimensions };

/**
 * Synthesizes a stage; every resource reference resolves to `<stack>:<logical id>`, because
 * CloudFormation gives each stack's resources their own physical names.
 */
const stage = (from: DeploymentSettings | HookwardenStack) => {
  const stack = from instanceof HookwardenStack ? from : synth(from).stack;
  const template = Template.fromStack(stack).toJSON();
  const resources = template.Resources as Record<string, Resource>;
  const exports = Object.values((template.Outputs ?? {}) as Record<string, { Export?: { Name: string } }>).flatMap((o) =>
    o.Export ? [`Export.Name = ${o.Export.Name}`] : [],
  );
  const resolved = (value: unknown) =>
    resolveIntrinsics(value, (id, attribute) => `${stack.stackName}:${id}${attribute ? `.${attribute}` : ''}`);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { name: stack.stackName, resources, exports, resolved, ofType };
};
type Stage = ReturnType<typeof stage>;

/** Names a resource is known by in the account and region: each top-level `...Name` property, and WAF metric names. */
const physicalNames = (s: Stage): string[] => {
  // Inline policy names are scoped to their role, stage names to their API: not account-wide; metrics are the next test's.
  const scoped = new Set(['AWS::IAM::Policy.PolicyName', 'AWS::ApiGateway::Stage.StageName', 'AWS::CloudWatch::Alarm.MetricName']);
  const names: string[] = [];
  for (const [, r] of Object.entries(s.resources)) {
    for (const [key, value] of Object.entries(s.resolved(r.Properties ?? {}) as Record<string, unknown>)) {
      if (/Name$/.test(key) && typeof value === 'string' && !scoped.has(`${r.Type}.${key}`)) names.push(`${r.Type}.${key} = ${value}`);
    }
  }
  for (const [, acl] of s.ofType('AWS::WAFv2::WebACL'))
    names.push(...[...JSON.stringify(acl.Properties).matchAll(/"MetricName":"([^"]+)"/g)].map((m) => `WAF metric = ${m[1]}`));
  return [...names, ...s.exports];
};

/** Every metric a stage's resources emit: the functions' custom metrics (their Powertools namespace and service), and the AWS metrics of its functions, API and tables. */
const emitted = (s: Stage): MetricId[] => [
  ...s.ofType('AWS::Lambda::Function').flatMap(([id, fn]): MetricId[] => {
    const env = (fn.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {};
    return [
      ...(env.POWERTOOLS_METRICS_NAMESPACE
        ? [{ namespace: env.POWERTOOLS_METRICS_NAMESPACE, dimensions: { service: env.POWERTOOLS_SERVICE_NAME as string } }]
        : []),
      { namespace: 'AWS/Lambda', dimensions: { FunctionName: `${s.name}:${id}` } },
    ];
  }),
  ...s
    .ofType('AWS::ApiGateway::RestApi')
    .map(([, api]) => ({ namespace: 'AWS/ApiGateway', dimensions: { ApiName: api.Properties.Name as string } })),
  // A table's metrics, and each of its indexes' (TableName and GlobalSecondaryIndexName).
  ...s.ofType('AWS::DynamoDB::GlobalTable').flatMap(([id, table]) => [
    { namespace: 'AWS/DynamoDB', dimensions: { TableName: `${s.name}:${id}` } },
    ...((table.Properties.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string }>).map((index) => ({
      namespace: 'AWS/DynamoDB',
      dimensions: { TableName: `${s.name}:${id}`, GlobalSecondaryIndexName: index.IndexName },
    })),
  ]),
];

/** Every metric a stage's alarms read (single-metric alarms and each metric of a math or anomaly alarm). */
const readByAlarms = (s: Stage): Array<MetricId & { alarm: string }> =>
  s.ofType('AWS::CloudWatch::Alarm').flatMap(([id, alarm]) => {
    const p = s.resolved(alarm.Properties) as {
      Namespace?: string;
      MetricName?: string;
      Dimensions?: Array<{ Name: string; Value: string }>;
      Metrics?: Array<{
        MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: string }> } };
      }>;
    };
    const dims = (list: Array<{ Name: string; Value: string }> = []) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));
    const single = p.Namespace
      ? [{ alarm: id, namespace: p.Namespace, metricName: p.MetricName as string, dimensions: dims(p.Dimensions) }]
      : [];
    const math = (p.Metrics ?? []).flatMap((m) =>
      m.MetricStat
        ? [
            {
              alarm: id,
              namespace: m.MetricStat.Metric.Namespace,
              metricName: m.MetricStat.Metric.MetricName,
              dimensions: dims(m.MetricStat.Metric.Dimensions),
            },
          ]
        : [],
    );
    return [...single, ...math];
  });

/** Whether an alarm reading `read` would see datapoints of `source` (same namespace, every dimension it names equal). */
const sees = (read: MetricId, source: MetricId): boolean =>
  // A `source` or `code` dimension names a webhook source or a refusal code, never a stage (namespace and service carry the stage).
  read.namespace === source.namespace &&
  Object.entries(read.dimensions).every(([k, v]) => k === 'source' || k === 'code' || source.dimensions[k] === v);

/** Fails when an alarm of either stage reads a metric the other stage's resources emit, or one reads nothing of its own. */
const expectNoCrossedAlarms = (dev: Stage, prod: Stage): void => {
  for (const [reader, other] of [
    [prod, dev],
    [dev, prod],
  ] as const) {
    const reads = readByAlarms(reader);
    expect(reads.length).toBeGreaterThan(10);
    // Each alarm reads its own stage's metrics (so the check below is not vacuous)...
    for (const read of reads)
      expect(
        emitted(reader).some((source) => sees(read, source)),
        `${reader.name} ${read.alarm} reads nothing of its own`,
      ).toBe(true);
    // ...and none of the other stage's.
    for (const read of reads) {
      const crossed = emitted(other).filter((source) => sees(read, source));
      expect(
        crossed,
        `${reader.name} alarm ${read.alarm} reads ${read.namespace} ${JSON.stringify(read.dimensions)} that ${other.name} emits`,
      ).toEqual([]);
    }
  }
};

describe('dev and prod in one account and region', () => {
  const sources = [sourceFor(), sourceFor({ name: 'github', scheme: 'github' })];
  const dev = stage(settingsFor({ sources, wafEnabled: true }));
  const prod = stage(prodSettings({ sources }));

  it('share no physical name', () => {
    const devNames = physicalNames(dev);
    const prodNames = physicalNames(prod);
    expect(prodNames.length).toBeGreaterThan(10);
    const shared = prodNames.filter((name) => devNames.some((other) => other.split(' = ')[1] === name.split(' = ')[1]));
    expect(shared).toEqual([]);
    for (const name of [...devNames, ...prodNames])
      expect(name, 'every name carries the stack (and so the stage)').toMatch(/hookwarden-(dev|prod)/i);
  });

  it("never let an alarm of one stage read a metric the other stage's resources emit", () => {
    expectNoCrossedAlarms(dev, prod);
  });
});

// A stack name may have 128 characters, and a Stage's name before the stack's id makes long ones. Over 81 the synth
// failed on the alarm topic's display name (SNS takes 100), which no one had set; over 116 the WAF metric names
// (`<name>-rate-per-ip`, WAF takes 128) failed the deploy.
describe('two stacks with names of 128 characters that differ only at the end', () => {
  const longName = (end: string) => `${'Payments'.repeat(14)}-WebhooksApi-${end}`;
  const synthLong = (end: string) => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new HookwardenStack(app, 'Webhooks', { settings: settingsFor({ wafEnabled: true }), stackName: longName(end) });
    return Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  };
  const wafMetricNames = (resources: Record<string, Resource>) =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::WAFv2::WebACL')
      .flatMap((acl) => [...JSON.stringify(acl.Properties).matchAll(/"MetricName":"([^"]+)"/g)].map((m) => m[1] as string));

  it('synthesize, the topic display name within SNS’s 100 characters, naming the start and the end of the stack', () => {
    expect(longName('Dev')).toHaveLength(128);
    const [[, topic] = []] = Object.entries(synthLong('Dev')).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
    const displayName = String(topic?.Properties.DisplayName);
    expect(displayName.length).toBeLessThanOrEqual(100);
    expect(displayName).toMatch(/^Hookwarden alarms \(PaymentsPayments.+\.\.\..+-WebhooksApi-Dev\)$/);
  });

  it('give WAF metric names within its 128 characters, apart between the two stacks', () => {
    const dev = wafMetricNames(synthLong('Dev'));
    const prd = wafMetricNames(synthLong('Prd'));
    expect(dev).toHaveLength(4);
    for (const name of [...dev, ...prd]) expect(name.length, name).toBeLessThanOrEqual(128);
    expect(dev.filter((name) => prd.includes(name))).toEqual([]);
  });
});

// The default app names its stack by stage, not region: a team deploying it to two regions has two Hookwarden-prod
// stacks. The key-due alarm's command named the stack only, and the CLI looks for it in the shell's region: run from a
// shell set to the other region, it rotated the other region's secret (the provider's new key written there, the due
// one left as it was) or found no stack.
describe('one stack name in two regions', () => {
  const app = new App({ context: NO_BUNDLING });
  const [eu, us] = ['eu-west-1', 'us-west-2'].map((region) => {
    const stack = new HookwardenStack(new CdkStage(app, region.replace(/-/g, ''), { env: { region } }), 'Webhooks', {
      settings: settingsFor(),
      stackName: 'Hookwarden-prod',
    });
    const resources = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, Resource>);
    return {
      rotateCommand: resources
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        .map((r) => String(resolveIntrinsics(r.Properties.AlarmDescription ?? '')))
        .find((text) => text.includes('hookwarden rotate')),
      dashboard: resources.find((r) => r.Type === 'AWS::CloudWatch::Dashboard')?.Properties.DashboardName,
    };
  }) as [{ rotateCommand?: string; dashboard?: unknown }, { rotateCommand?: string; dashboard?: unknown }];

  it("key-due alarms name the command in their stack's region", () => {
    expect(eu.rotateCommand).toMatch(
      / run: AWS_REGION=eu-west-1 hookwarden rotate default --stack Hookwarden-prod --secret-env NEW_SECRET$/,
    );
    expect(us.rotateCommand).toMatch(
      / run: AWS_REGION=us-west-2 hookwarden rotate default --stack Hookwarden-prod --secret-env NEW_SECRET$/,
    );
  });

  // Dashboards are global to the account, unlike every other name here: the second region's deploy failed ("already exists").
  it('name their dashboards apart', () => {
    expect(eu.dashboard).toBe('Hookwarden-prod-eu-west-1');
    expect(us.dashboard).toBe('Hookwarden-prod-us-west-2');
  });
});

// As a team deploys two stages from one app: each Stage holds a stack of the same id, deployed as Dev-Webhooks and
// Prod-Webhooks. Every name comes from the deployed name, never the id both share.
describe('Dev and Prod Stages of one app, each with a HookwardenStack of id "Webhooks"', () => {
  const app = new App({ context: NO_BUNDLING });
  const sources = [sourceFor(), sourceFor({ name: 'github', scheme: 'github' })];
  const [dev, prod] = (
    [
      ['Dev', settingsFor({ sources, wafEnabled: true })],
      ['Prod', prodSettings({ sources })],
    ] as const
  ).map(([name, settings]) => stage(new HookwardenStack(new CdkStage(app, name), 'Webhooks', { settings }))) as [Stage, Stage];

  it('share no physical name or export name', () => {
    const devNames = physicalNames(dev);
    const prodNames = physicalNames(prod);
    expect(prodNames.filter((name) => name.startsWith('Export.Name'))).toHaveLength(2);
    expect(prodNames.filter((name) => devNames.some((other) => other.split(' = ')[1] === name.split(' = ')[1]))).toEqual([]);
    for (const name of [...devNames, ...prodNames]) expect(name, 'every name carries the deployed stack').toMatch(/(dev|prod)-webhooks/i);
  });

  it("never let an alarm of one stage read a metric the other stage's resources emit", () => {
    expectNoCrossedAlarms(dev, prod);
  });
});

// Every name is made at synth from the stack name, and the functions' configuration ships in their bundles: a token
// (a parameter's value, a Lazy) cannot be one. CDK refused it quoting the token ("must match the regular expression
// …, got '${Token[TOKEN.32]}'"), naming neither the prop nor why.
describe('a stack name that is a token', () => {
  it.each([
    ['a Lazy', Lazy.string({ produce: () => 'Webhooks-dev' })],
    ['AWS::StackName', Aws.STACK_NAME],
  ])('(%s) is refused naming stackName and why', (_kind, stackName) => {
    const app = new App({ context: NO_BUNDLING });
    expect(() => new HookwardenStack(app, 'Webhooks', { settings: settingsFor(), stackName })).toThrow(
      /stackName: must be known at synth \(a plain string\), not a token/,
    );
  });
});
