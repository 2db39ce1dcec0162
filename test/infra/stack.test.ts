import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { prodSettings, synth } from './helpers';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe('the production stack', () => {
  let template: Template;
  let resources: Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    template = synth(prodSettings()).template();
    resources = template.toJSON().Resources as Resources;
  });

  it('builds both tables on demand, with TTL on expiresAt, PITR, encryption, deletion protection and RETAIN', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    template.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('runs Node.js 24 on arm64, with source maps, production errors, its own role and log group', () => {
    const functions = ofType('AWS::Lambda::Function').filter(([, r]) => (r.Properties.Runtime as string)?.startsWith('nodejs'));
    expect(functions).toHaveLength(2);
    const roles = new Set<string>();
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps', NODE_ENV: 'production', DEBUG: 'false', POWERTOOLS_SERVICE_NAME: 'hookwarden', POWERTOOLS_METRICS_NAMESPACE: 'Hookwarden', WEBHOOK_SECRET_CACHE_SECONDS: '300' }) },
        LoggingConfig: { LogGroup: expect.anything() },
      });
      roles.add(JSON.stringify(fn.Properties.Role));
    }
    expect(roles.size).toBe(2);
  });

  it('gives the functions the whole source configuration, rate limits included', () => {
    const withLimits = synth(prodSettings({ sources: [{ ...prodSettings().sources[0]!, rateLimit: '600/60s', clientRateLimit: '100/1m' }] })).template();
    const fn = Object.values(withLimits.toJSON().Resources as Resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r).includes('HOOKWARDEN_CONFIG_JSON'));
    const config = JSON.stringify((fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables.HOOKWARDEN_CONFIG_JSON);
    expect(config).toContain('\\"rateLimit\\":\\"600/60s\\"');
    expect(config).toContain('\\"clientRateLimit\\":\\"100/1m\\"');
    expect(config).toContain('\\"secretArn\\"');
  });

  it('grants no IAM action or resource wildcard', () => {
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement;
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/(^\*$)|(:\*$)/);
        for (const resource of [statement.Resource].flat()) expect(resource).not.toBe('*');
      }
    }
  });

  it('lets the webhook function use its tables and secrets only, and the health function describe the table only', () => {
    const policies = ofType('AWS::IAM::Policy').map(([, p]) => JSON.stringify(p.Properties));
    const webhook = policies.find((p) => p.includes('dynamodb:PutItem')) as string;
    expect(webhook).toContain('secretsmanager:GetSecretValue');
    // On the rate-limits table: counters and the blocklist item only.
    const rateStatement = JSON.parse(webhook).PolicyDocument.Statement.find((s: { Resource: unknown }) => JSON.stringify(s.Resource).includes('RateLimits'));
    expect([rateStatement.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const health = policies.find((p) => p.includes('dynamodb:DescribeTable') && !p.includes('dynamodb:PutItem')) as string;
    expect(JSON.parse(health).PolicyDocument.Statement.filter((s: { Action: string }) => String(s.Action).startsWith('dynamodb'))).toEqual([
      expect.objectContaining({ Action: 'dynamodb:DescribeTable', Effect: 'Allow' }),
    ]);
  });

  it('exposes exactly POST and OPTIONS /webhooks/{source}, GET /health and GET /health/ready', () => {
    const paths = new Map<string, string>();
    for (const [id, r] of ofType('AWS::ApiGateway::Resource')) paths.set(id, r.Properties.PathPart as string);
    const methods = ofType('AWS::ApiGateway::Method').map(([, m]) => `${m.Properties.HttpMethod} ${paths.get((m.Properties.ResourceId as { Ref: string }).Ref)}`);
    expect(methods.sort()).toEqual(['GET health', 'GET ready', 'OPTIONS {source}', 'POST {source}'].sort());
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
  });

  it('logs access as JSON and throttles the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })],
    });
  });

  it('associates a WAF web ACL with the stage: managed common rules, a rate rule per IP, blocked IP sets', () => {
    const [, acl] = ofType('AWS::WAFv2::WebACL')[0] as unknown as [string, { Properties: { Scope: string; Rules: Array<{ Statement: Record<string, unknown> }> } }];
    expect(acl.Properties.Scope).toBe('REGIONAL');
    const statements = acl.Properties.Rules.map((rule) => rule.Statement);
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          ManagedRuleGroupStatement: expect.objectContaining({
            VendorName: 'AWS',
            Name: 'AWSManagedRulesCommonRuleSet',
            // Body rules only count: WAF must not drop a signed delivery for its content.
            RuleActionOverrides: expect.arrayContaining([{ Name: 'CrossSiteScripting_BODY', ActionToUse: { Count: {} } }, { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]),
          }),
        },
        { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 10000 } },
        { OrStatement: { Statements: [{ IPSetReferenceStatement: expect.anything() }, { IPSetReferenceStatement: expect.anything() }] } },
      ]),
    );
    template.resourceCountIs('AWS::WAFv2::IPSet', 2);
    const stage = ofType('AWS::ApiGateway::Stage')[0]?.[0] as string;
    expect(JSON.stringify(ofType('AWS::WAFv2::WebACLAssociation'))).toContain(stage);
  });

  it('encrypts the alarm topic with KMS, refuses plain HTTP, and subscribes the alarm email', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('alarms on webhook authentication failures (threshold and anomaly band) into the topic', () => {
    const topic = ofType('AWS::SNS::Topic')[0]?.[0] as string;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'AuthenticationFailure',
      Namespace: 'Hookwarden',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topic }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanUpperThreshold',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('ANOMALY_DETECTION_BAND') })]),
      AlarmActions: [{ Ref: topic }],
    });
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(11);
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('alarms on rate-limited and blocked request spikes into the topic', () => {
    const topic = ofType('AWS::SNS::Topic')[0]?.[0] as string;
    for (const metricName of ['RateLimited', 'BlockedRequest']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: metricName, Namespace: 'Hookwarden', AlarmActions: [{ Ref: topic }] });
    }
  });

  it('notifies the topic when anyone but the webhook function reads a source secret (CloudTrail management events)', () => {
    const topic = ofType('AWS::SNS::Topic')[0]?.[0] as string;
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      EventPattern: Match.objectLike({
        source: ['aws.secretsmanager'],
        detail: Match.objectLike({ eventName: ['GetSecretValue'], userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [Match.anyValue()] }] } } } }),
      }),
      Targets: [Match.objectLike({ Arn: { Ref: topic } })],
    });
    const names = ofType('AWS::Logs::QueryDefinition').map(([, q]) => q.Properties.Name);
    expect(names).toEqual(expect.arrayContaining(['hookwarden/security events', 'hookwarden/authentication failures']));
  });

  it('outputs the URLs, table names, secret ARNs, topic and IP set ARNs', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    for (const name of ['ApiUrl', 'WebhookUrldefault', 'SecretArndefault', 'DeliveriesTableName', 'RateLimitsTableName', 'AlarmTopicArn', 'BlockedIpv4SetArn', 'BlockedIpv6SetArn']) {
      expect(outputs).toContain(name);
    }
  });
});
