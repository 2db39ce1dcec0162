import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { metricsIdentity } from '../../core/telemetry.js';
import { DeliveriesApi, type DeliveriesApiProps } from '../../lib/constructs/deliveries-api.js';
import { EdgeFirewall } from '../../lib/constructs/edge-firewall.js';
import { SecretAudit } from '../../lib/constructs/secret-audit.js';
import { SecretRotation } from '../../lib/constructs/secret-rotation.js';
import { SecurityAlarms } from '../../lib/constructs/security-alarms.js';
import { SourceSecrets } from '../../lib/constructs/source-secrets.js';
import { WebhookApi } from '../../lib/constructs/webhook-api.js';
import { WebhookFunctions, type WebhookFunctionsProps } from '../../lib/constructs/webhook-functions.js';
import { WebhookHttpApi } from '../../lib/constructs/webhook-http-api.js';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Key } from 'aws-cdk-lib/aws-kms';
import { WebhookTables } from '../../lib/constructs/tables.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { NO_BUNDLING, sourceFor } from './helpers.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks-default-AbCdEf';

/** The constructs composed into a team's own stack (not HookwardenStack), as `hookwarden/cdk` is used. */
const teamStack = (scope: Construct = new App({ context: NO_BUNDLING }), apiProps: { cloudWatchRole?: boolean } = {}) => {
  const stack = new Stack(scope, 'Team');
  const tables = new WebhookTables(stack, 'Tables');
  const functions = new WebhookFunctions(stack, 'Functions', {
    sources: [sourceFor()],
    secrets: new Map([['default', Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ID)]]),
    secretIds: new Map([['default', SECRET_ID]]),
    deliveries: tables.deliveries,
    rateLimits: tables.rateLimits,
  });
  const api = new WebhookApi(stack, 'Api', { webhookFunction: functions.webhook, healthFunction: functions.health, ...apiProps });
  return { stack, tables, functions, api };
};

/** The problems a construct refuses with, or the error it throws when it is not a ConfigError. */
const problemsOf = (build: () => unknown): readonly string[] => {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('DeliveriesApi in a team stack', () => {
  const deliveriesApi = (props: Partial<DeliveriesApiProps>) => () => {
    const { stack, tables, api } = teamStack();
    return new DeliveriesApi(stack, 'DeliveriesApi', {
      api: api.api,
      validator: api.validator,
      deliveries: tables.deliveries,
      tokens: tables.tokens,
      rateLimits: tables.rateLimits,
      ...props,
    });
  };

  // The reader and events functions read CORS_ORIGINS with the configuration's parser at cold start and refuse a wildcard
  // or a malformed origin: deployed as given, every read would be a 500 after a deploy that succeeded.
  it('refuses origins its functions would refuse at cold start, with its settings problems, at synth', () => {
    expect(
      problemsOf(
        deliveriesApi({ corsOrigins: ['*', 'https://app.example.com/', 'https://ok.example.com'], readerSettings: { readBudget: 'lots' } }),
      ),
    ).toEqual([
      'corsOrigins: "*" contains a wildcard; list exact origins',
      'corsOrigins: "https://app.example.com/" is not an exact origin (expected "https://app.example.com": no path, no trailing slash)',
      expect.stringMatching(/^readerSettings\.readBudget: "lots" is not a rate/),
    ]);
  });

  it('refuses origins given as one string (from JavaScript) rather than failing on it', () => {
    expect(problemsOf(deliveriesApi({ corsOrigins: 'https://app.example.com' as never }))).toEqual([
      'corsOrigins: must be an array of exact origins like ["https://app.example.com"]',
    ]);
  });

  it('accepts exact origins', () => {
    expect(problemsOf(deliveriesApi({ corsOrigins: ['https://app.example.com', 'http://localhost:3000'] }))).toEqual([]);
  });
});

/**
 * Two sets of Hookwarden's constructs in one team stack, each in its own scope (`A`, `B`), every name left to its default
 * (the stack's name) unless `named` gives each set its own. Returns the synth's error message, or '' when it synthesizes.
 */
const twoInOneStack = (named: boolean): string => {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Team');
  for (const set of ['A', 'B']) {
    const scope = new Construct(stack, set);
    const sources = [sourceFor({ name: 'github', scheme: 'github' })];
    const tables = new WebhookTables(scope, 'Tables');
    const secrets = new SourceSecrets(scope, 'Secrets', { sources, ...(named ? { namePrefix: `Team-${set}` } : {}) });
    const functions = new WebhookFunctions(scope, 'Functions', {
      sources,
      secrets: secrets.secrets,
      secretIds: secrets.secretIds,
      deliveries: tables.deliveries,
      rateLimits: tables.rateLimits,
    });
    const api = new WebhookApi(scope, 'Api', {
      webhookFunction: functions.webhook,
      healthFunction: functions.health,
      cloudWatchRole: false,
    });
    new EdgeFirewall(scope, 'Firewall', { stage: api.api.deploymentStage, ...(named ? { logGroupName: `aws-waf-logs-Team-${set}` } : {}) });
    const alarmNamePrefix = named ? `Team-${set}` : 'Team';
    const alarms = new SecurityAlarms(scope, 'Alarms', {
      api: api.api,
      functions: [functions.webhook],
      tables: [tables.deliveries],
      sources: ['github'],
      ...(named ? { alarmNamePrefix } : {}),
    });
    new SecretRotation(scope, 'Rotation', {
      sources,
      secrets: secrets.secrets,
      secretIds: secrets.secretIds,
      topic: alarms.topic,
      topicKey: alarms.topicKey,
      alarmNamePrefix,
      stackName: 'Team',
      metrics: metricsIdentity('Team'),
    });
  }
  try {
    app.synth();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('two sets of the constructs in one team stack', () => {
  // Secret, alarm and WAF log group names must be unique in the account and region, and default to the stack's name:
  // CloudFormation refused the second of each midway through the deploy ("already exists"), after a clean synth.
  it('are refused at synth, naming every name they share, the constructs and the prop that sets each', () => {
    const message = twoInOneStack(false);
    expect(message).toContain('secret name "Team/github/keys" (Team/A/Secrets, from namePrefix; Team/B/Secrets, from namePrefix)');
    expect(message).toContain(
      'log group name "aws-waf-logs-Team" (Team/A/Firewall, from logGroupName; Team/B/Firewall, from logGroupName)',
    );
    for (const alarm of ['AuthenticationFailures', 'Api5xx', 'FunctionErrors0', 'TableThrottles0'])
      expect(message).toContain(`alarm name "Team-${alarm}" (Team/A/Alarms, from alarmNamePrefix; Team/B/Alarms, from alarmNamePrefix)`);
    expect(message).toContain(
      'alarm name "Team-KeyAgeErrors" (Team/A/Rotation, from alarmNamePrefix; Team/B/Rotation, from alarmNamePrefix)',
    );
    expect(message).toContain('alarm name "Team-KeyDue-github"');
  });

  it('synthesize once each set names its own', () => {
    expect(twoInOneStack(true)).toBe('');
  });
});

describe('EdgeFirewall props', () => {
  it('refuses a log group WAF cannot log to, and too many redacted headers, in one error', () => {
    const { stack, api } = teamStack();
    const headers = Array.from({ length: 101 }, (_, i) => `x-signature-${i}`);
    expect(
      problemsOf(
        () => new EdgeFirewall(stack, 'Firewall', { stage: api.api.deploymentStage, logGroupName: 'waf-logs', redactedHeaders: headers }),
      ),
    ).toEqual([
      'logGroupName: "waf-logs" must start with "aws-waf-logs-": WAF logs to no other log group',
      expect.stringMatching(/^redactedHeaders: WAF logging redacts at most 100 headers, and these sources sign with 101/),
    ]);
  });

  it('refuses a metric prefix too long for WAF metric names', () => {
    const { stack, api } = teamStack();
    expect(
      problemsOf(() => new EdgeFirewall(stack, 'Firewall', { stage: api.api.deploymentStage, metricPrefix: 'x'.repeat(117) })),
    ).toEqual(['metricPrefix: is 117 characters: WAF metric names ("<metricPrefix>-rate-per-ip") take at most 128, so at most 116']);
  });
});

// From JavaScript, or computed, a number prop may be NaN, negative, zero, fractional or text. Deployed as given,
// CloudFormation or the service refused it midway through the deploy, a zero throttle or reservation refused every
// request, and a secret cache of 0 failed every cold start. Each construct now names every bad prop at once.
describe('number props of the constructs, from JavaScript', () => {
  it('WebhookApi and WebhookHttpApi refuse throttles that are not whole requests per second', () => {
    for (const Api of [WebhookApi, WebhookHttpApi]) {
      const { stack, functions } = teamStack();
      expect(
        problemsOf(
          () =>
            new Api(stack, 'Other', {
              webhookFunction: functions.webhook,
              healthFunction: functions.health,
              throttlingRateLimit: Number.NaN,
              throttlingBurstLimit: -1,
              readinessRateLimit: 0,
            }),
        ),
      ).toEqual([
        'throttlingRateLimit: must be a whole number from 1 to 1000000, got NaN',
        'throttlingBurstLimit: must be a whole number from 1 to 1000000, got -1',
        'readinessRateLimit: must be a whole number from 1 to 1000000, got 0',
      ]);
    }
  });

  it("EdgeFirewall refuses a rate limit outside WAF's range", () => {
    for (const [limit, shown] of [
      [0, '0'],
      [Number.NaN, 'NaN'],
      ['2000', '"2000"'],
      [9, '9'],
    ] as const) {
      const { stack, api } = teamStack();
      expect(
        problemsOf(() => new EdgeFirewall(stack, 'Firewall', { stage: api.api.deploymentStage, rateLimitPer5Minutes: limit as number })),
      ).toEqual([`rateLimitPer5Minutes: must be a whole number from 10 to 2000000000, got ${shown}`]);
    }
  });

  it('SecurityAlarms refuses thresholds that are not counts, and an alarm email that is not one', () => {
    const { stack, api, functions } = teamStack();
    expect(
      problemsOf(
        () =>
          new SecurityAlarms(stack, 'Alarms', {
            api: api.api,
            functions: [functions.webhook],
            tables: [],
            sources: ['default'],
            authenticationFailureThreshold: Number.NaN,
            rateLimitedThreshold: -5,
            blockedThreshold: 2.5,
            apiTokenRefusalThreshold: '20' as never,
            alarmEmail: 'ops at example.com',
          }),
      ),
    ).toEqual([
      'authenticationFailureThreshold: must be a whole number from 0 to 1000000000, got NaN',
      'rateLimitedThreshold: must be a whole number from 0 to 1000000000, got -5',
      'blockedThreshold: must be a whole number from 0 to 1000000000, got 2.5',
      'apiTokenRefusalThreshold: must be a whole number from 0 to 1000000000, got "20"',
      'alarmEmail: "ops at example.com" is not an email address',
    ]);
  });

  it('WebhookFunctions refuses a memory size, reservation, timeout or secret cache its functions or Lambda would refuse', () => {
    const { stack, tables } = teamStack();
    const props: WebhookFunctionsProps = {
      sources: [sourceFor()],
      secrets: new Map([['default', Secret.fromSecretCompleteArn(stack, 'Other', SECRET_ID)]]),
      secretIds: new Map([['default', SECRET_ID]]),
      deliveries: tables.deliveries,
      rateLimits: tables.rateLimits,
      memorySize: 64,
      reservedConcurrency: 0,
      timeout: Duration.millis(1500),
      secretCache: Duration.seconds(0),
    };
    expect(problemsOf(() => new WebhookFunctions(stack, 'More', props))).toEqual([
      'memorySize: must be a whole number from 128 to 10240, got 64',
      'reservedConcurrency: must be a whole number from 1 to 100000, got 0',
      'timeout: must be a whole number of seconds from 1 to 900, got Duration.millis(1500)',
      'secretCache: must be a whole number of seconds from 1 to 86400, got Duration.seconds(0)',
    ]);
    expect(
      problemsOf(
        () =>
          new WebhookFunctions(stack, 'Longer', {
            ...props,
            memorySize: undefined,
            reservedConcurrency: undefined,
            timeout: undefined,
            secretCache: Duration.hours(25),
          }),
      ),
    ).toEqual(['secretCache: must be a whole number of seconds from 1 to 86400, got Duration.hours(25)']);
  });

  it('SecretRotation refuses a secret cache its rotation function would refuse', () => {
    const { stack, api } = teamStack();
    const alarms = new SecurityAlarms(stack, 'Alarms', { api: api.api, functions: [], tables: [], sources: [] });
    expect(
      problemsOf(
        () =>
          new SecretRotation(stack, 'Rotation', {
            sources: [],
            secrets: new Map(),
            secretIds: new Map(),
            topic: alarms.topic,
            topicKey: alarms.topicKey,
            alarmNamePrefix: 'Team',
            stackName: 'Team',
            metrics: metricsIdentity('Team'),
            secretCache: Duration.seconds(Number.NaN),
          }),
      ),
    ).toEqual(['secretCache: must be a whole number of seconds from 1 to 86400, got Duration.seconds(NaN)']);
  });
});

// secretIds is what the functions pass as SecretId; a team confusing it with the secret itself passed the provider's
// secret there. It was accepted: written into the bundled configuration, sent as SecretId on every read (kept by
// CloudTrail), and, for a rotated source outside the stack's name prefix, put in the template's RotationFailed rule.
describe('a secret given in plain text where the constructs expect a secret or its name', () => {
  const MARKER = TEST_SECRETS.standardWebhooks;
  const build = (secretIds: ReadonlyMap<string, string>, secrets?: ReadonlyMap<string, unknown>) => {
    const { stack, tables, api } = teamStack();
    const sources = [sourceFor({ name: 'shared', rotation: { mode: 'shared', every: '90d', overlap: '24h' } })];
    const imported = Secret.fromSecretCompleteArn(stack, 'SharedSecret', SECRET_ID);
    const given = (secrets ?? new Map([['shared', imported]])) as WebhookFunctionsProps['secrets'];
    const problems = [
      ...problemsOf(
        () =>
          new WebhookFunctions(stack, 'Shared', {
            sources,
            secrets: given,
            secretIds,
            deliveries: tables.deliveries,
            rateLimits: tables.rateLimits,
          }),
      ),
    ];
    const alarms = new SecurityAlarms(stack, 'Alarms', { api: api.api, functions: [], tables: [], sources: [] });
    problems.push(
      ...problemsOf(
        () =>
          new SecretRotation(stack, 'Rotation', {
            sources,
            secrets: given,
            secretIds,
            topic: alarms.topic,
            topicKey: alarms.topicKey,
            alarmNamePrefix: 'Team',
            stackName: 'Team',
            metrics: metricsIdentity('Team'),
          }),
      ),
    );
    return { problems, template: JSON.stringify((stack.node.root as App).synth().getStackByName('Team').template) };
  };

  it('refuses a secret value as a secret id, quoting no part of it, and keeps it out of the template', () => {
    const { problems, template } = build(new Map([['shared', MARKER]]));
    const message =
      'secretIds: source "shared": is a provider\'s secret, not a secret name or complete ARN: never give a secret value in a prop';
    expect(problems).toEqual([message, message]);
    expect(template).not.toContain(MARKER.slice(6, 18));
  });

  it('refuses a secret value (a string) where an ISecret goes, and Maps given as objects', () => {
    expect(build(new Map([['shared', SECRET_ID]]), new Map([['shared', MARKER]])).problems).toContain(
      'secrets: source "shared": must be an ISecret (Secret.fromSecretCompleteArn), not a string: never give a secret value in a prop',
    );
    expect(build({ shared: SECRET_ID } as never, { shared: MARKER } as never).problems).toEqual([
      'secrets: must be a Map from source name to ISecret (SourceSecrets.secrets, or Secret.fromSecretCompleteArn)',
      'secretIds: must be a Map from source name to a secret name or complete ARN',
      'secrets: must be a Map from source name to ISecret (SourceSecrets.secrets, or Secret.fromSecretCompleteArn)',
      'secretIds: must be a Map from source name to a secret name or complete ARN',
    ]);
  });

  it('accepts a secret name outside the stack prefix and a complete ARN', () => {
    expect(build(new Map([['shared', 'billing/webhook-keys']])).problems).toEqual([]);
    expect(build(new Map([['shared', SECRET_ID]])).problems).toEqual([]);
  });
});

// The alarm topic's policy admits this stack's alarms by name (`aws:SourceArn` `…:alarm:<alarmNamePrefix>-*`). A
// SecretRotation given another prefix than its topic's SecurityAlarms synthesized and deployed, and SNS refused every
// notification of its alarms (rotation errors, a key due), on AWS only, with no page.
describe('SecretRotation with the alarm topic of a SecurityAlarms', () => {
  const rotationWith = (alarmNamePrefix: string) => {
    const { stack, api } = teamStack();
    const alarms = new SecurityAlarms(stack, 'Alarms', { api: api.api, functions: [], tables: [], sources: [], alarmNamePrefix: 'Team' });
    return problemsOf(
      () =>
        new SecretRotation(stack, 'Rotation', {
          sources: [],
          secrets: new Map(),
          secretIds: new Map(),
          topic: alarms.topic,
          topicKey: alarms.topicKey,
          alarmNamePrefix,
          stackName: 'Team',
          metrics: metricsIdentity('Team'),
        }),
    );
  };

  it('refuses alarm names the topic would refuse to be notified by', () => {
    expect(rotationWith('Webhooks')).toEqual([
      'alarmNamePrefix: "Webhooks" names alarms the topic refuses: Team/Alarms admits only alarms named "Team-…" (its alarmNamePrefix)',
    ]);
  });

  it('accepts its prefix, or one under it', () => {
    expect(rotationWith('Team')).toEqual([]);
    expect(rotationWith('Team-Rotation')).toEqual([]);
  });
});

// SNS refuses a topic policy whose statements share an id ("Every policy statement must have a unique ID"). Each secret
// audit and rotation adds a statement for its own rule, under one fixed id: two sets of sources notifying one alarm
// topic synthesized, and the deploy failed on the topic policy.
describe('two secret audits and two rotations notifying one alarm topic', () => {
  it('give each of their statements on the topic its own id', () => {
    const { stack, api, functions } = teamStack();
    const alarms = new SecurityAlarms(stack, 'Alarms', { api: api.api, functions: [], tables: [], sources: [] });
    for (const set of ['A', 'B']) {
      new SecretAudit(stack, `Audit${set}`, {
        secretNamePrefix: `Team-${set}`,
        expectedReaders: [functions.webhookRole],
        topic: alarms.topic,
        topicKey: alarms.topicKey,
        functionLogs: [],
      });
      new SecretRotation(stack, `Rotation${set}`, {
        sources: [],
        secrets: new Map(),
        secretIds: new Map(),
        topic: alarms.topic,
        topicKey: alarms.topicKey,
        alarmNamePrefix: `Team-${set}`,
        stackName: `Team-${set}`,
        metrics: metricsIdentity('Team'),
      });
    }
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::SNS::TopicPolicy')) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Sid?: string }> } };
    }>;
    const sids = (policy?.Properties.PolicyDocument.Statement ?? []).map((statement) => statement.Sid);
    expect(sids).toHaveLength(6);
    expect(new Set(sids).size).toBe(sids.length);
    expect(sids).toEqual(
      expect.arrayContaining(['AllowSecretAuditRule', 'AllowSecretAuditRule2', 'AllowRotationFailedRule', 'AllowRotationFailedRule2']),
    );
  });
});

// From JavaScript a flag may arrive as text (`debug: process.env.DEBUG`), and 'false' is truthy: WebhookFunctions and
// DeliveriesApi deployed DEBUG=true (error details in answers outside production, parser and SDK messages in the log).
describe('boolean props of the constructs, from JavaScript', () => {
  it("refuse 'false' as text rather than read it as true", () => {
    const { stack, tables, api } = teamStack();
    const flags = { production: 'false', debug: 'false' } as unknown as { production: boolean; debug: boolean };
    expect(
      problemsOf(
        () =>
          new WebhookFunctions(stack, 'Text', {
            sources: [sourceFor()],
            secrets: new Map([['default', Secret.fromSecretCompleteArn(stack, 'TextSecret', SECRET_ID)]]),
            secretIds: new Map([['default', SECRET_ID]]),
            deliveries: tables.deliveries,
            rateLimits: tables.rateLimits,
            ...flags,
          }),
      ),
    ).toEqual(['production: must be true or false, got "false"', 'debug: must be true or false, got "false"']);
    expect(
      problemsOf(
        () =>
          new DeliveriesApi(stack, 'DeliveriesApi', {
            api: api.api,
            validator: api.validator,
            deliveries: tables.deliveries,
            tokens: tables.tokens,
            rateLimits: tables.rateLimits,
            ...flags,
          }),
      ),
    ).toEqual(['production: must be true or false, got "false"', 'debug: must be true or false, got "false"']);
    expect(problemsOf(() => new WebhookTables(stack, 'MoreTables', { production: 'false' as never }))).toEqual([
      'production: must be true or false, got "false"',
    ]);
    expect(problemsOf(() => new SourceSecrets(stack, 'Secrets', { sources: [], production: 0 as never }))).toEqual([
      'production: must be true or false, got 0',
    ]);
  });
});

// A team's own stack, composed from the constructs with their defaults, deployed as Dev and Prod Stages in one account
// and region. The REST API was named "hookwarden" in both, and API Gateway publishes its metrics by ApiName: each
// stage's 5xx alarm and dashboard read the other's API too, so dev's errors paged prod. The saved queries were
// "hookwarden/…" in both, two of each in the console, over different stages' logs.
describe('a team stack composed with the defaults, deployed as two Stages', () => {
  const app = new App({ context: NO_BUNDLING });
  const stages = ['Dev', 'Prod'].map((name) => {
    const { stack, tables, functions, api } = teamStack(new Stage(app, name), { cloudWatchRole: false });
    new WebhookHttpApi(stack, 'HttpApi', { webhookFunction: functions.webhook, healthFunction: functions.health });
    new SecurityAlarms(stack, 'Alarms', {
      api: api.api,
      functions: [functions.webhook],
      tables: [tables.deliveries],
      sources: ['default'],
    });
    new SecretAudit(stack, 'Audit', {
      secretNamePrefix: stack.stackName,
      importedSecretArns: [SECRET_ID],
      expectedReaders: [functions.webhookRole],
      topic: new Topic(stack, 'Topic'),
      topicKey: new Key(stack, 'Key'),
      functionLogs: [functions.webhookLogs],
    });
    const resources = Object.values(
      Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    );
    const names = (type: string) => resources.filter((r) => r.Type === type).map((r) => String(r.Properties.Name));
    const api5xx = resources.find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === '5XXError');
    return {
      restApi: names('AWS::ApiGateway::RestApi'),
      httpApi: names('AWS::ApiGatewayV2::Api'),
      queries: names('AWS::Logs::QueryDefinition'),
      api5xxReads: (api5xx?.Properties.Dimensions as Array<{ Name: string; Value: string }>).find((d) => d.Name === 'ApiName')?.Value,
    };
  });
  const [dev, prod] = stages as [(typeof stages)[number], (typeof stages)[number]];

  it("name each API after its deployed stack, so each stage's 5xx alarm reads its own API only", () => {
    expect(dev.restApi).toEqual(['Dev-Team']);
    expect(prod.restApi).toEqual(['Prod-Team']);
    expect(dev.api5xxReads).toBe('Dev-Team');
    expect(prod.api5xxReads).toBe('Prod-Team');
    expect(dev.httpApi).toEqual(['Dev-Team']);
    expect(prod.httpApi).toEqual(['Prod-Team']);
  });

  it('save the queries under the deployed stack name', () => {
    expect(dev.queries).toHaveLength(4);
    for (const name of dev.queries) expect(name).toMatch(/^Dev-Team\//);
    for (const name of prod.queries) expect(name).toMatch(/^Prod-Team\//);
  });
});

// API Gateway's CloudWatch role is one setting per account and region. CDK's `@aws-cdk/aws-apigateway:disableCloudWatchRole`
// flag (set by `cdk init` in new apps) is how an app says it manages that setting once, elsewhere; WebhookApi passed
// `cloudWatchRole: true` to CDK whatever the flag said, so a team that had set it got a role of Hookwarden's made and
// the account's setting taken over by every stage it deployed.
describe("WebhookApi and the app's disableCloudWatchRole feature flag", () => {
  const FLAG = '@aws-cdk/aws-apigateway:disableCloudWatchRole';
  const accountSetting = (context: Record<string, unknown>, apiProps: { cloudWatchRole?: boolean } = {}) => {
    const { stack } = teamStack(new App({ context: { ...NO_BUNDLING, ...context } }), apiProps);
    const template = Template.fromStack(stack);
    return {
      accounts: Object.values(template.findResources('AWS::ApiGateway::Account')),
      roles: Object.values(template.findResources('AWS::IAM::Role')).filter((role) =>
        JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'),
      ),
    };
  };

  it('leaves the account setting alone when the app sets the flag', () => {
    for (const value of [true, 'true']) {
      const { accounts, roles } = accountSetting({ [FLAG]: value });
      expect(accounts).toEqual([]);
      expect(roles).toEqual([]);
    }
  });

  it('creates the role without the flag, or when asked to, and keeps both role and setting when the stack goes', () => {
    for (const [context, props] of [
      [{}, {}],
      [{ [FLAG]: true }, { cloudWatchRole: true }],
    ] as const) {
      const { accounts, roles } = accountSetting(context, props);
      expect(accounts).toHaveLength(1);
      expect(roles).toHaveLength(1);
      // Another stage's API may be logging through this role by now: deleting either would end its logs.
      for (const resource of [...accounts, ...roles]) {
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
      }
    }
  });
});
