import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../cli/context.js';
import { defaultAwsClients, readStackOutputs, sourceOutput, withContainmentTarget, type AwsClients } from '../../cli/targets.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { outputKey, sourceOfOutputKey } from '../../lib/stack-outputs.js';
import { AUTHENTICATION_FAILURE_CODES, READ_TOKEN_REFUSAL_CODES } from '../../core/errors.js';
import { DIMENSION, METRIC, METRIC_DIMENSIONS, metricsEnvironment, metricsIdentity, type MetricName } from '../../core/telemetry.js';
import { resolveIntrinsics } from './intrinsics.js';
import { prodSettings, settingsFor, sourceFor, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Dimension = { Name: string; Value: string };
/** A custom metric as an alarm or a dashboard graph names it. */
type Read = { where: string; namespace: string; metricName: string; dimensions: Record<string, string> };

const { stack, template } = synth(prodSettings({ sources: [sourceFor(), sourceFor({ name: 'github', scheme: 'github' })] }));
const identity = metricsIdentity(stack.stackName);
const resources = Object.entries(template().toJSON().Resources as Record<string, Resource>);
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
const custom = (namespace: string) => !namespace.startsWith('AWS/');
const emitted = new Set<string>(Object.values(METRIC));

/** Every custom metric an alarm reads, single or inside a math expression. */
const alarmReads = (): Read[] =>
  ofType('AWS::CloudWatch::Alarm').flatMap(([id, alarm]) => {
    const p = alarm.Properties as {
      Namespace?: string;
      MetricName?: string;
      Dimensions?: Dimension[];
      Metrics?: Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Dimension[] } } }>;
    };
    const dims = (list: Dimension[] = []) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));
    const single = p.Namespace
      ? [{ where: id, namespace: p.Namespace, metricName: p.MetricName as string, dimensions: dims(p.Dimensions) }]
      : [];
    const math = (p.Metrics ?? []).flatMap((m) =>
      m.MetricStat
        ? [
            {
              where: id,
              namespace: m.MetricStat.Metric.Namespace,
              metricName: m.MetricStat.Metric.MetricName,
              dimensions: dims(m.MetricStat.Metric.Dimensions),
            },
          ]
        : [],
    );
    return [...single, ...math].filter((read) => custom(read.namespace));
  });

/** The dashboard's widgets' metric rows (`[namespace, name, dim, value, ..., options?]`) and expressions. */
const dashboard = () => {
  const [[, board] = []] = ofType('AWS::CloudWatch::Dashboard');
  const body = JSON.parse(resolveIntrinsics(board?.Properties.DashboardBody) as string) as {
    widgets: Array<{ properties: { metrics?: unknown[][] } }>;
  };
  const rows = body.widgets.flatMap((w) => w.properties.metrics ?? []);
  const reads: Read[] = rows
    .filter((row) => typeof row[0] === 'string' && custom(row[0]))
    .map((row) => {
      const [namespace, metricName, ...rest] = row.filter((cell) => typeof cell === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i] as string] = rest[i + 1] as string;
      return { where: 'Dashboard', namespace: namespace as string, metricName: metricName as string, dimensions };
    });
  const expressions = rows.flatMap((row) =>
    row.flatMap((cell) => (typeof cell === 'object' && cell !== null && 'expression' in cell ? [String(cell.expression)] : [])),
  );
  return { reads, expressions };
};

/** Whether the functions emit `read`: a name they count, in their namespace, with exactly the dimensions they count it by. */
const expectEmitted = (read: Read): void => {
  const label = `${read.where} reads ${read.metricName} ${JSON.stringify(read.dimensions)}`;
  expect(emitted.has(read.metricName), `${label}: no such metric in telemetry's METRIC`).toBe(true);
  expect(read.namespace, label).toBe(identity.namespace);
  expect(Object.keys(read.dimensions).sort(), label).toEqual(
    [DIMENSION.service, ...METRIC_DIMENSIONS[read.metricName as MetricName]].sort(),
  );
  expect(read.dimensions[DIMENSION.service], label).toBe(identity.service);
};

describe('the metrics contract between the functions and the alarms', () => {
  it("gives every function the stack's metrics identity", () => {
    const functions = ofType('AWS::Lambda::Function').filter(([, fn]) => JSON.stringify(fn.Properties).includes('POWERTOOLS_'));
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const [, fn] of functions)
      expect((fn.Properties.Environment as { Variables: object }).Variables).toMatchObject(metricsEnvironment(identity));
  });

  it('alarms only on metrics the functions emit, with their exact dimensions', () => {
    const reads = alarmReads();
    expect([...new Set(reads.map((r) => r.metricName))].sort()).toEqual(
      [
        METRIC.authenticationFailure,
        METRIC.blocked,
        METRIC.rateLimited,
        METRIC.secretKeyUnusable,
        METRIC.secretKeyAge,
        METRIC.apiRejected,
        METRIC.leaseLost,
      ].sort(),
    );
    reads.forEach(expectEmitted);
  });

  it('alarms on the sum of read-token refusals, one metric per code the read-token middleware answers', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => JSON.stringify(a.Properties).includes(METRIC.apiRejected));
    expect(alarms).toHaveLength(1);
    const [, alarm] = alarms[0] as (typeof alarms)[number];
    const codes = alarmReads()
      .filter((read) => read.metricName === METRIC.apiRejected)
      .map((read) => read.dimensions.code)
      .sort();
    expect(codes).toEqual([...READ_TOKEN_REFUSAL_CODES].sort());
    expect(alarm.Properties).toMatchObject({ Threshold: 20, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    const expression = (alarm.Properties.Metrics as Array<{ Expression?: string }>).find((m) => m.Expression)?.Expression;
    expect(expression).toBe('FILL(m0, 0) + FILL(m1, 0)');
  });

  it('fills every metric of an alarm expression with 0, so that one metric with no datapoint cannot hide the others', () => {
    // CloudWatch adds two series only where both have a datapoint, and DynamoDB (like the functions) publishes a count
    // only for a period that had one: 'r + w' saw no read throttle in a period without a write throttle, nor the reverse.
    const math = ofType('AWS::CloudWatch::Alarm').flatMap(([id, alarm]) => {
      const metrics = (alarm.Properties.Metrics ?? []) as Array<{ Id: string; Expression?: string; MetricStat?: unknown }>;
      const expression = metrics.find((m) => m.Expression)?.Expression;
      return expression ? [{ id, expression, ids: metrics.filter((m) => m.MetricStat).map((m) => m.Id) }] : [];
    });
    // The read-token refusals and each table's throttles (deliveries, rate limits, tokens).
    expect(math.length).toBeGreaterThanOrEqual(4);
    for (const { id, expression, ids } of math) {
      expect(ids.length, id).toBeGreaterThan(1);
      const unfilled = expression.replace(/FILL\((\w+), 0\)/g, '');
      for (const metric of ids) {
        expect(expression, `${id}: ${metric}`).toContain(`FILL(${metric}, 0)`);
        expect(new RegExp(`\\b${metric}\\b`).test(unfilled), `${id}: ${metric} outside FILL`).toBe(false);
      }
    }
  });

  it('alarms as soon as one key in a key document is unusable, and stays on until a fixed set is loaded', () => {
    const [[, alarm] = []] = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === METRIC.secretKeyUnusable);
    expect(alarm?.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // The functions publish a level (0 included) on each key-set load: the highest one counts, and no datapoint keeps the state.
      Statistic: 'Maximum',
      TreatMissingData: 'ignore',
      AlarmActions: [expect.anything()],
    });
  });

  it('graphs only metrics the functions emit, and searches each by its exact dimension set', () => {
    const { reads, expressions } = dashboard();
    expect(reads.length).toBeGreaterThan(4);
    reads.forEach(expectEmitted);
    expect(expressions.length).toBeGreaterThanOrEqual(2);
    for (const expression of expressions) {
      const [, schema, name] = /^SEARCH\('\{([^}]+)\} MetricName="([^"]+)"'/.exec(expression) ?? [];
      expect(emitted.has(name as string), expression).toBe(true);
      const [namespace, ...dimensions] = (schema as string).split(',');
      expect(namespace).toBe(identity.namespace);
      expect(dimensions.sort(), expression).toEqual([DIMENSION.service, ...METRIC_DIMENSIONS[name as MetricName]].sort());
    }
  });
});

describe('the authentication-failure codes in the stack', () => {
  it('are exactly what the saved "authentication failures" query looks for', () => {
    const [[, query] = []] = ofType('AWS::Logs::QueryDefinition').filter(([, q]) =>
      String(q.Properties.Name).endsWith('/authentication failures'),
    );
    const listed = /securityEvent\.code in \[([^\]]*)\]/.exec(String(query?.Properties.QueryString))?.[1];
    expect(JSON.parse(`[${listed}]`)).toEqual([...AUTHENTICATION_FAILURE_CODES]);
  });
});

describe('the output keys between the stack and the CLI', () => {
  const names = ['default', 'billing-eu', 'billing_eu', 'billingeu', 'a-_b'];
  const punctuated = synth(settingsFor({ sources: names.map((name) => sourceFor({ name })), wafEnabled: true }));
  const outputs = punctuated.template().toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
  const value = (key: string) => resolveIntrinsics(outputs[key]?.Value) as string;
  /** The stack's outputs as DescribeStacks returns them, every description replaced: the CLI must not need them. */
  const described = (): AwsClients => {
    const cfn = mockClient(CloudFormationClient);
    cfn.on(DescribeStacksCommand, { StackName: 'Deployed' }).resolves({
      Stacks: [
        {
          StackName: 'Deployed',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: Object.keys(outputs).map((key) => ({ OutputKey: key, OutputValue: value(key), Description: 'reworded for people' })),
        },
      ],
    });
    return {
      ...defaultAwsClients,
      cloudFormation: () => new CloudFormationClient({ region: 'us-east-1' }),
      dynamodb: () => createDynamoDbClient({ endpoint: 'http://127.0.0.1:9', region: 'local' }),
    };
  };
  afterAll(() => mockClient(CloudFormationClient).restore());

  it('gives each source its own keys, even names that differ only in punctuation', () => {
    const keys = names.flatMap((name) => [outputKey('webhookUrl', name), outputKey('secretArn', name)]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(keys));
    for (const name of names) expect(sourceOfOutputKey('webhookUrl', outputKey('webhookUrl', name))).toBe(name);
  });

  it('lets the CLI find the sources, the table, the IP sets and each secret by key alone', async () => {
    const aws = described();
    const target = await withContainmentTarget({ env: {}, cwd: '.', dataDir: '.' } as CliContext, 'Deployed', async (t) => t, aws);
    expect([...target.sources].sort()).toEqual([...names].sort());
    expect(target.waf).toMatchObject({ ipv4SetArn: value(outputKey('blockedIpv4Set')), ipv6SetArn: value(outputKey('blockedIpv6Set')) });
    const read = await readStackOutputs(aws, 'Deployed');
    expect(read.get(outputKey('rateLimitsTable'))).toBe(value(outputKey('rateLimitsTable')));
    for (const name of names) expect(sourceOutput(read, 'secretArn', name)).toBe(value(outputKey('secretArn', name)));
    expect(sourceOutput(read, 'secretArn', 'billing')).toBeUndefined();
  });
});
