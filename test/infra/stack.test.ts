import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, requireSecrets } from '../../core/config/index.js';
import { resolveScheme } from '../../core/schemes/index.js';
import { DELIVERIES_BY_TIME } from '../../core/stores/tables.js';
import { GENERATED_KEY_LENGTH } from '../../lib/constructs/source-secrets.js';
import { BUNDLED_CONFIG_FILE, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from '../../lib/constructs/webhook-functions.js';
import type { HookwardenStack } from '../../lib/hookwarden-stack.js';
import { prodSettings, settingsFor, sourceFor, synth } from './helpers.js';
import { resolveIntrinsics } from './intrinsics.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Resolves the intrinsics the function environment uses into plain strings (Refs become recognizable fakes). */
const resolve = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (v['Fn::Join']) return v['Fn::Join'][1].map(resolve).join(v['Fn::Join'][0]);
  if (v.Ref) return v.Ref;
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
};

const inspect = (template: Template) => {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  // The webhook and health functions (the rotation construct's functions are asserted in rotation.test.ts).
  const functions = ofType('AWS::Lambda::Function').filter(
    ([id, r]) => id.startsWith('Functions') && String(r.Properties.Runtime).startsWith('nodejs'),
  );
  const functionNamed = (name: string) => functions.find(([id]) => id.startsWith(`Functions${name}`))?.[1] as Resource;
  const policyOf = (role: string) =>
    (
      ofType('AWS::IAM::Policy').find(([, p]) => JSON.stringify(p.Properties.Roles).includes(role))?.[1].Properties.PolicyDocument as {
        Statement: Statement[];
      }
    ).Statement;
  const envOf = (name: string) => (functionNamed(name).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return { resources, ofType, functions, functionNamed, policyOf, envOf };
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** What a function of `stack` loads at cold start: the template's environment, resolved, and the bundled config file in its working directory. */
const coldStart = (stack: HookwardenStack, env: Record<string, unknown>) => {
  const taskRoot = mkdtempSync(join(tmpdir(), 'hookwarden-task-'));
  dirs.push(taskRoot);
  writeFileSync(join(taskRoot, BUNDLED_CONFIG_FILE), JSON.stringify(stack.functions.configDocument));
  return requireSecrets(loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, resolve(v)])), taskRoot));
};

describe('the production stack', () => {
  let template: Template;
  let t: ReturnType<typeof inspect>;
  let stack: HookwardenStack;

  beforeAll(() => {
    const settings = prodSettings({
      sources: [
        sourceFor(),
        sourceFor({ name: 'github', scheme: 'github', rateLimit: '600/60s', clientRateLimit: '60/60s', allowedIps: ['192.30.252.0/22'] }),
      ],
      trustedProxies: ['10.0.0.0/8'],
    });
    const built = synth(settings);
    stack = built.stack;
    template = built.template();
    t = inspect(template);
  });

  it('builds the tables from the shared definitions: on demand, TTL on expiresAt, PITR, encrypted, deletion protection and RETAIN', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 3);
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true }),
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    // Only the deliveries table streams (new images, for consumers).
    const streams = t
      .ofType('AWS::DynamoDB::GlobalTable')
      .map(([id, r]) => [id.replace(/[0-9A-F]{8}$/, ''), r.Properties.StreamSpecification]);
    expect(Object.fromEntries(streams)).toEqual({
      TablesDeliveries: { StreamViewType: 'NEW_IMAGE' },
      TablesRateLimits: undefined,
      TablesTokens: undefined,
    });
    template.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('runs Node.js 24 on arm64 with 256 MB and 10 s, source maps, production errors, Powertools names', () => {
    // The webhook and health functions (the deliveries API's have their own test: test/infra/deliveries-api.test.ts).
    const webhookFunctions = t.functions.filter(([id]) => id.startsWith('Functions'));
    expect(webhookFunctions).toHaveLength(2);
    for (const [, fn] of webhookFunctions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 10,
        Handler: 'index.handler',
        Environment: {
          Variables: expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            NODE_ENV: 'production',
            DEBUG: 'false',
            POWERTOOLS_SERVICE_NAME: 'hookwarden-prod',
            POWERTOOLS_METRICS_NAMESPACE: 'Hookwarden-prod',
            WEBHOOK_SECRET_CACHE_SECONDS: '300',
            DELIVERIES_TABLE_NAME: { Ref: expect.stringMatching(/^TablesDeliveries/) },
            RATE_LIMITS_TABLE_NAME: { Ref: expect.stringMatching(/^TablesRateLimits/) },
          }),
        },
      });
    }
  });

  it('gives each function its own role and log group with a retention (no default role, no logRetention custom resource)', () => {
    // Every function of the stack: webhook, health, the deliveries API's reader and events, the rotation ones.
    const all = t.ofType('AWS::Lambda::Function').filter(([, r]) => String(r.Properties.Runtime).startsWith('nodejs'));
    const roles = new Set(all.map(([, fn]) => JSON.stringify(fn.Properties.Role)));
    const logGroups = new Set(
      all.map(([, fn]) => JSON.stringify((fn.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup)),
    );
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(roles.size).toBe(all.length);
    expect(logGroups.size).toBe(all.length);
    expect(logGroups.has(undefined as unknown as string)).toBe(false);
    for (const [, role] of t.ofType('AWS::IAM::Role').filter(([id]) => id.startsWith('Functions')))
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourceCountIs('Custom::LogRetention', 0);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('ships the function a config file it accepts: every source with its secret, limits, CORS and proxies', () => {
    expect(t.envOf('Webhook')).toMatchObject({ HOOKWARDEN_CONFIG: BUNDLED_CONFIG_FILE });
    expect(t.envOf('Webhook').HOOKWARDEN_CONFIG_JSON).toBeUndefined();
    const config = coldStart(stack, t.envOf('Webhook'));
    expect([...config.sources.keys()]).toEqual(['default', 'github']);
    // The generated secret's name: a valid SecretId, known at synth, and the one the stack creates.
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'Hookwarden-prod/github/keys' });
    expect(config.sources.get('github')).toMatchObject({
      secret: { kind: 'secretsManager', secretId: 'Hookwarden-prod/github/keys', cacheSeconds: 300 },
      rateLimit: { limit: 600, windowSeconds: 60 },
      clientRateLimit: { limit: 60, windowSeconds: 60 },
      allowedIps: ['192.30.252.0/22'],
    });
    expect(config).toMatchObject({ corsOrigins: ['https://app.example.com'], trustedProxies: ['10.0.0.0/8'], production: true });
  });

  it("deploys 50 sources: the environment stays the same, far below Lambda's 4 KB, and the bundled file holds them all", () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      sourceFor({ name: `source-${i}`, scheme: 'github', allowedIps: ['192.30.252.0/22', '185.199.108.0/22'] }),
    );
    const big = synth(prodSettings({ sources: many }));
    const env = inspect(big.template()).envOf('Webhook');
    expect(env).toEqual(t.envOf('Webhook'));
    // Table names at their longest (255 characters) still leave room.
    const bytes = Object.entries(env).reduce(
      (sum, [k, v]) => sum + Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 255),
      0,
    );
    expect(bytes).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    const config = coldStart(big.stack, env);
    expect(config.sources.size).toBe(50);
    expect(config.sources.get('source-49')?.secret).toMatchObject({ secretId: 'Hookwarden-prod/source-49/keys' });
  });

  it('grants no IAM action or resource wildcard (none is acknowledged)', () => {
    for (const [, policy] of t.ofType('AWS::IAM::Policy')) {
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
        for (const resource of [statement.Resource].flat()) expect(JSON.stringify(resource)).not.toMatch(/\*/);
      }
    }
  });

  it('lets the webhook function use its table items and read its secrets, nothing else', () => {
    const statements = t.policyOf('FunctionsWebhookRole');
    const on = (fragment: string) =>
      statements
        .filter((s) => JSON.stringify(s.Resource).includes(fragment))
        .flatMap((s) => [s.Action].flat())
        .sort();
    expect(on('TablesDeliveries')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(on('TablesRateLimits')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(on('Secretsdefault')).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(on('Secretsgithub')).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(on('FunctionsWebhookLogs')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    // Nothing on any other resource, and nothing but Allow.
    const known = ['TablesDeliveries', 'TablesRateLimits', 'Secretsdefault', 'Secretsgithub', 'FunctionsWebhookLogs'];
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const resource of [statement.Resource].flat())
        expect(
          known.some((k) => JSON.stringify(resource).includes(k)),
          JSON.stringify(resource),
        ).toBe(true);
    }
  });

  it('lets the health function describe the deliveries table and write its logs, nothing else', () => {
    const statements = t.policyOf('FunctionsHealthRole');
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FunctionsHealthLogs/), 'Arn'] },
      }),
      expect.objectContaining({
        Action: 'dynamodb:DescribeTable',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TablesDeliveries/), 'Arn'] },
      }),
    ]);
  });

  it('generates one secret per source in the key-document format, valid for every scheme, never in the template', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.allResourcesProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: '{"keys":[]}',
        GenerateStringKey: 'secret',
        ExcludePunctuation: true,
        IncludeSpace: false,
        PasswordLength: GENERATED_KEY_LENGTH,
      },
    });
    for (const [, secret] of t.ofType('AWS::SecretsManager::Secret')) expect(secret.Properties.SecretString).toBeUndefined();
    template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    // Alphanumerics with a length that is a multiple of 4: base64 as it stands (Standard Webhooks), a plain key elsewhere.
    expect(GENERATED_KEY_LENGTH % 4).toBe(0);
    const generatedLike = 'Zx9'.repeat(11).slice(0, GENERATED_KEY_LENGTH);
    for (const scheme of ['standard-webhooks', 'github', 'stripe', 'slack', 'shopify']) {
      expect(() => resolveScheme(scheme).decodeSecret(generatedLike), scheme).not.toThrow();
      expect(() => resolveScheme(scheme).decodeSecret(`whsec_${generatedLike}`), scheme).not.toThrow();
    }
    expect(resolveScheme('standard-webhooks').decodeSecret(`whsec_${generatedLike}`)).toHaveLength(24);
  });

  it("exposes exactly POST and OPTIONS /webhooks/{source}, GET /health and GET /health/ready, and the deliveries API's GET and OPTIONS, all to Lambda", () => {
    const paths = new Map(t.ofType('AWS::ApiGateway::Resource').map(([id, r]) => [id, r.Properties.PathPart as string]));
    const methods = t
      .ofType('AWS::ApiGateway::Method')
      .map(([, m]) => `${m.Properties.HttpMethod} ${paths.get((m.Properties.ResourceId as { Ref: string }).Ref)}`);
    // ANY: the 405 mock for the other methods (test/infra/method-not-allowed.test.ts); every other method is a Lambda proxy.
    expect(methods.filter((m) => !m.startsWith('ANY ')).sort()).toEqual([
      'GET deliveries',
      'GET events',
      'GET health',
      'GET ready',
      'GET {id}',
      'OPTIONS deliveries',
      'OPTIONS events',
      'OPTIONS {id}',
      'OPTIONS {source}',
      'POST {source}',
    ]);
    expect(methods.filter((m) => m.startsWith('ANY ')).sort()).toEqual([
      'ANY deliveries',
      'ANY events',
      'ANY health',
      'ANY ready',
      'ANY {id}',
      'ANY {source}',
    ]);
    for (const [, method] of t.ofType('AWS::ApiGateway::Method').filter(([, m]) => m.Properties.HttpMethod !== 'ANY')) {
      expect(method.Properties).toMatchObject({ Integration: { Type: 'AWS_PROXY' }, RequestValidatorId: expect.anything() });
    }
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestParameters: { 'method.request.path.source': true },
    });
  });

  it("answers API Gateway's own refusals in the functions' error shape, with their security headers", () => {
    // By default a mistyped URL got 403 {"message":"Missing Authentication Token"}, and WAF, throttling and oversize
    // answers their own bodies, none with nosniff or HSTS: the README's "every error body" and "every response" were untrue.
    const answers = new Map(
      t
        .ofType('AWS::ApiGateway::GatewayResponse')
        .map(([, r]) => [
          r.Properties.ResponseType as string,
          r.Properties as { StatusCode?: string; ResponseParameters: Record<string, string>; ResponseTemplates: Record<string, string> },
        ]),
    );
    const expected = {
      MISSING_AUTHENTICATION_TOKEN: ['404', 'not_found'],
      WAF_FILTERED: ['403', 'request_blocked'],
      THROTTLED: ['429', 'rate_limited'],
      REQUEST_TOO_LARGE: ['413', 'payload_too_large'],
      INTEGRATION_TIMEOUT: ['504', 'gateway_timeout'],
      // A throttled invocation (reserved concurrency reached): a 503 providers retry, not a bare 500.
      INTEGRATION_FAILURE: ['503', 'unavailable'],
      DEFAULT_4XX: [undefined, 'gateway_refused'],
      DEFAULT_5XX: [undefined, 'gateway_error'],
    };
    expect([...answers.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [type, [status, code]] of Object.entries(expected)) {
      const answer = answers.get(type)!;
      expect(answer.StatusCode, type).toBe(status);
      // What API Gateway substitutes: the request id, and its own message as a JSON string (with a quote in it).
      const body = answer.ResponseTemplates['application/json']!.replaceAll(
        '$context.requestId',
        'f1e2d3c4-0000-4000-8000-000000000000',
      ).replaceAll('$context.error.messageString', JSON.stringify('Invalid "request" body'));
      expect(JSON.parse(body), type).toEqual({
        error: { code, message: expect.stringMatching(/^[A-Z]/), requestId: 'f1e2d3c4-0000-4000-8000-000000000000' },
      });
      expect(answer.ResponseParameters, type).toMatchObject({
        'gatewayresponse.header.X-Content-Type-Options': "'nosniff'",
        'gatewayresponse.header.Cache-Control': "'no-store'",
        'gatewayresponse.header.Strict-Transport-Security': "'max-age=31536000; includeSubDomains'",
        'gatewayresponse.header.X-Frame-Options': "'DENY'",
      });
      // A static value is one quoted string: none may hold a quote of its own.
      for (const value of Object.values(answer.ResponseParameters)) expect(value, type).toMatch(/^'[^']*'$/);
    }
    expect(answers.get('THROTTLED')!.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
    expect(answers.get('INTEGRATION_FAILURE')!.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
  });

  it('lets only the deployed stage invoke the functions, per method (no console test-invoke)', () => {
    const permissions = t
      .ofType('AWS::Lambda::Permission')
      .filter(([id]) => !id.startsWith('Rotation'))
      .map(([, p]) => JSON.stringify(p.Properties.SourceArn));
    expect(permissions).toHaveLength(10);
    for (const arn of permissions) {
      expect(arn).not.toContain('test-invoke-stage');
      expect(arn).toMatch(/ApiDeploymentStageprod/);
    }
  });

  it('leaves X-Ray off unless context tracing=true ($5 per million traces)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: false });
    for (const [, fn] of t.functions) expect(fn.Properties.TracingConfig).toBeUndefined();
    synth(prodSettings({ tracing: true }))
      .template()
      .hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  });

  it("creates API Gateway's account-level CloudWatch role unless context apiGatewayCloudWatchRole=existing", () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const existing = synth(prodSettings({ apiGatewayCloudWatchRole: 'existing' })).template();
    existing.resourceCountIs('AWS::ApiGateway::Account', 0);
    // Execution logging still on: it uses the account's role.
    existing.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: 'ERROR' })]),
    });
  });

  it('logs access as JSON and throttles the stage (and the readiness check harder)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.serializedJson(
          Match.objectLike({ requestId: '$context.requestId', ip: '$context.identity.sourceIp', status: '$context.status' }),
        ),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
          DataTraceEnabled: false,
        }),
        Match.objectLike({ HttpMethod: 'GET', ResourcePath: '/~1health~1ready', ThrottlingRateLimit: 10 }),
      ]),
    });
  });

  it('associates a WAF web ACL with the stage: managed common rules, a rate rule per IP, blocked IP sets', () => {
    const [, acl] = t.ofType('AWS::WAFv2::WebACL')[0] as unknown as [
      string,
      { Properties: { Scope: string; Rules: Array<{ Statement: Record<string, unknown> }> } },
    ];
    expect(acl.Properties.Scope).toBe('REGIONAL');
    expect(acl.Properties.Rules.map((rule) => rule.Statement)).toEqual([
      { OrStatement: { Statements: [{ IPSetReferenceStatement: expect.anything() }, { IPSetReferenceStatement: expect.anything() }] } },
      { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 10000 } },
      {
        ManagedRuleGroupStatement: expect.objectContaining({
          VendorName: 'AWS',
          Name: 'AWSManagedRulesCommonRuleSet',
          // Body rules only count: WAF must not drop a signed delivery for its content.
          RuleActionOverrides: expect.arrayContaining([
            { Name: 'CrossSiteScripting_BODY', ActionToUse: { Count: {} } },
            { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
          ]),
        }),
      },
    ]);
    template.resourceCountIs('AWS::WAFv2::IPSet', 2);
    const stage = t.ofType('AWS::ApiGateway::Stage')[0]?.[0] as string;
    const acls = t.ofType('AWS::WAFv2::WebACL')[0]?.[0] as string;
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: stage }])] },
      WebACLArn: { 'Fn::GetAtt': [acls, 'Arn'] },
    });
  });

  it('takes the WAF rate per IP from the settings (context wafRateLimit)', () => {
    const limited = synth(prodSettings({ wafRateLimitPer5Minutes: 500 })).template();
    limited.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 500 } } })]),
    });
  });

  it('encrypts the alarm topic with KMS, refuses plain HTTP, and subscribes the alarm email', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('alarms on webhook authentication failures (threshold in 5 minutes, no anomaly band) into the topic', () => {
    const topic = t.ofType('AWS::SNS::Topic')[0]?.[0] as string;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'AuthenticationFailure',
      Namespace: 'Hookwarden-prod',
      Dimensions: [{ Name: 'service', Value: 'hookwarden-prod' }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topic }],
    });
    // No anomaly-detection alarm: the metric is sparse (emitted on failures only), so a band learns nothing.
    template.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 0);
    expect(JSON.stringify(t.ofType('AWS::CloudWatch::Alarm'))).not.toContain('ANOMALY_DETECTION_BAND');
  });

  it('alarms on API 5xx, function errors and throttles, table throttles, rate-limit spikes and unusable keys, all into the topic', () => {
    const topic = t.ofType('AWS::SNS::Topic')[0]?.[0] as string;
    const alarms = t.ofType('AWS::CloudWatch::Alarm');
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    const byMetric = (name: string) => alarms.filter(([, a]) => JSON.stringify(a.Properties).includes(`"${name}"`)).length;
    expect(byMetric('5XXError')).toBe(1);
    // The webhook, health, reader and events functions, and the daily key-age check (rotation.test.ts).
    expect(byMetric('Errors')).toBe(5);
    expect(byMetric('Throttles')).toBe(4);
    const functionsAlarmed = (metric: string) =>
      alarms
        .filter(([, a]) => a.Properties.MetricName === metric)
        .map(([, a]) => JSON.stringify(a.Properties.Dimensions))
        .sort();
    // Each of the four API functions by its own name (the deliveries API's two included), and only once;
    // the key-age check has its own errors alarm.
    for (const [metric, count] of [
      ['Errors', 5],
      ['Throttles', 4],
    ] as const) {
      const names = functionsAlarmed(metric);
      expect(new Set(names).size).toBe(count);
      for (const logical of ['Webhook', 'Health', 'Reader', 'Events'])
        expect(
          names.some((d) => d.includes(logical)),
          `${metric} alarm for the ${logical} function`,
        ).toBe(true);
    }
    // The deliveries, rate-limits and tokens tables (the deliveries API reads tokens), each by its own name.
    expect(byMetric('WriteThrottleEvents')).toBe(3);
    const tablesAlarmed = alarms
      .filter(([, a]) => JSON.stringify(a.Properties).includes('"WriteThrottleEvents"'))
      .map(([, a]) => JSON.stringify(a.Properties.Metrics));
    for (const table of ['Deliveries', 'RateLimits', 'Tokens'])
      expect(
        tablesAlarmed.filter((m) => new RegExp(`"Ref":"Tables${table}[0-9A-F]{8}"`).test(m)),
        `throttle alarm of the ${table} table`,
      ).toHaveLength(1);
    expect(byMetric('RateLimited')).toBe(1);
    expect(byMetric('BlockedRequest')).toBe(1);
    expect(byMetric('SecretKeyUnusable')).toBe(1);
    expect(byMetric('SecretKeyAgeSeconds')).toBe(2);
    expect(byMetric('ApiRequestRejected')).toBe(1);
    // One lost lease is enough: a wrapped handler may have processed a delivery twice.
    const leaseLost = alarms.filter(([, a]) => a.Properties.MetricName === 'DeliveryLeaseLost');
    expect(leaseLost).toHaveLength(1);
    expect(leaseLost[0]?.[1].Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    // 1 authentication, 1 unusable key, 1 read-token refusals, 2 rate-limit/blocked, 1 lost lease, 1 API, 4 × 2
    // functions, 3 tables; key due for 2 manual sources and the key-age check's errors.
    expect(alarms).toHaveLength(21);
  });

  it("alarms on the byTime index's read and write throttles with its table's, which DynamoDB reports under the index alone", () => {
    // Every stored delivery writes the index under one partition key value (feed): its one partition is where a burst throttles.
    type Stat = { Id: string; MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> } } };
    const indexReads = t
      .ofType('AWS::CloudWatch::Alarm')
      .flatMap(([id, a]) => ((a.Properties.Metrics ?? []) as Stat[]).map((m) => ({ id, m })))
      .filter(({ m }) =>
        m.MetricStat?.Metric.Dimensions.some((d) => d.Name === 'GlobalSecondaryIndexName' && d.Value === DELIVERIES_BY_TIME.name),
      );
    expect(indexReads.map(({ m }) => m.MetricStat?.Metric.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    const [first] = indexReads;
    expect(new Set(indexReads.map(({ id }) => id)).size).toBe(1);
    expect(JSON.stringify(first?.m.MetricStat?.Metric.Dimensions)).toMatch(/"TableName","Value":\{"Ref":"TablesDeliveries[0-9A-F]{8}"/);
  });

  it('graphs accepted, duplicate and rejected deliveries by source and reason on a per-stage dashboard', () => {
    const [, dashboard] = t.ofType('AWS::CloudWatch::Dashboard')[0] as [string, Resource];
    // Dashboards are global to the account: the region keeps one stack name's dashboards apart between regions.
    expect(resolveIntrinsics(dashboard.Properties.DashboardName)).toBe('Hookwarden-prod-us-east-1');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of [
      'DeliveryAccepted',
      'DeliveryDuplicate',
      'DeliveryRejected',
      'AuthenticationFailure',
      'github',
      'default',
      'code,service,source',
    ])
      expect(body).toContain(text);
  });

  it("notifies the topic when anyone but the stack's own functions reads a source secret (CloudTrail management events)", () => {
    const topic = t.ofType('AWS::SNS::Topic')[0]?.[0] as string;
    const roleArn = (prefix: string) => ({ 'Fn::GetAtt': [t.ofType('AWS::IAM::Role').find(([id]) => id.startsWith(prefix))?.[0], 'Arn'] });
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      EventPattern: Match.objectLike({
        source: ['aws.secretsmanager'],
        detail: Match.objectLike({
          eventName: ['GetSecretValue'],
          $or: Match.arrayWith([
            {
              // The default source is manual: the daily key-age check reads its secret too.
              userIdentity: {
                sessionContext: {
                  sessionIssuer: { arn: [{ 'anything-but': [roleArn('FunctionsWebhookRole'), roleArn('RotationKeyAgeRole')] }] },
                },
              },
            },
          ]),
        }),
      }),
      Targets: [Match.objectLike({ Arn: { Ref: topic } })],
    });
    const names = t.ofType('AWS::Logs::QueryDefinition').map(([, q]) => q.Properties.Name);
    expect(names).toEqual(expect.arrayContaining(['Hookwarden-prod/security events', 'Hookwarden-prod/authentication failures']));
    // Every saved query reads the deliveries API's logs too: a refused token or scope is a security event there.
    const apiLogs = t
      .ofType('AWS::Logs::LogGroup')
      .map(([id]) => id)
      .filter((id) => id.startsWith('DeliveriesApi'));
    expect(apiLogs).toHaveLength(2);
    for (const [, query] of t.ofType('AWS::Logs::QueryDefinition'))
      expect(query.Properties.LogGroupNames).toEqual(expect.arrayContaining(apiLogs.map((id) => ({ Ref: id }))));
  });

  // Its own region only: the secrets it audits are read there. A trail of every region, made by each stack, recorded
  // every region's events once per region the stack was deployed to, each copy after the first billed per event.
  it("creates a trail of management events for the audit: the stack's region, KMS-encrypted, validated, into its own private, TLS-only, retained bucket", () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    const [bucket] = t.ofType('AWS::S3::Bucket').map(([id]) => id);
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsLogging: true,
      IsMultiRegionTrail: false,
      IncludeGlobalServiceEvents: false,
      EnableLogFileValidation: true,
      KMSKeyId: Match.anyValue(),
      S3BucketName: { Ref: bucket },
      EventSelectors: [Match.objectLike({ IncludeManagementEvents: true, ReadWriteType: 'All' })],
    });
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: Match.anyValue(),
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    // context cloudTrail=existing: the account's trail feeds the rule, and the stack creates none.
    synth(prodSettings({ cloudTrail: 'existing' }))
      .template()
      .resourceCountIs('AWS::CloudTrail::Trail', 0);
  });

  it('outputs the URLs, table names, secret ARNs, topic and exported IP set ARNs (keys from outputKey, which the CLI reads)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Description?: string; Export?: { Name: string } }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiUrl',
        'BlockedIpv4SetArn',
        'BlockedIpv6SetArn',
        'DeliveriesTableName',
        'RateLimitsTableName',
        'SecretArndefault',
        'SecretArngithub',
        'TokensTableName',
        'WebhookUrldefault',
        'WebhookUrlgithub',
      ]
        .concat(Object.keys(outputs).filter((k) => k.startsWith('ApiEndpoint')))
        .sort(),
    );
    expect(outputs.WebhookUrlgithub?.Description).toBe('Webhook URL for source "github"');
    expect(outputs.SecretArngithub?.Description).toBe('Secret holding the keys of source "github"');
    expect(outputs.BlockedIpv4SetArn?.Export?.Name).toBe('Hookwarden-prod-BlockedIpv4SetArn');
  });
});

describe('the dev stack', () => {
  let template: Template;
  let t: ReturnType<typeof inspect>;
  beforeAll(() => {
    template = synth(settingsFor({ sources: [sourceFor({ name: 'a-b' }), sourceFor({ name: 'ab' })] })).template();
    t = inspect(template);
  });

  it('runs with NODE_ENV=development but generic errors (DEBUG=false) unless debug is asked for', () => {
    expect(t.envOf('Webhook')).toMatchObject({ NODE_ENV: 'development', DEBUG: 'false' });
    const debug = inspect(synth(settingsFor({ debug: true })).template());
    expect(debug.envOf('Webhook')).toMatchObject({ NODE_ENV: 'development', DEBUG: 'true' });
  });

  it('has no WAF (acknowledged), and deletes its data with the stack', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', { Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] });
    template.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  });

  it('keeps outputs apart for source names that differ only in punctuation', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs).toEqual(expect.arrayContaining(['WebhookUrlaDb', 'WebhookUrlab', 'SecretArnaDb', 'SecretArnab']));
  });
});
