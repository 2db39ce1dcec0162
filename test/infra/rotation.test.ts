import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { RotationDescription } from '../../core/config/rotation.js';
import { KEY_AGE_SOURCES_FILE } from '../../core/secrets/key-age.js';
import { ROTATION_SOURCES_FILE } from '../../core/secrets/rotation-function.js';
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES } from '../../lib/constructs/webhook-functions.js';
import { MAX_SOURCES_PER_STACK } from '../../lib/checklist.js';
import { readSettings } from '../../lib/settings.js';
import { CURRENT_SINCE_TAG } from '../../core/secrets/rotation.js';
import { matchesPattern } from './event-pattern.js';
import { prodSettings, sourceFor, synth } from './helpers.js';
import { resolveIntrinsics } from './intrinsics.js';

const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:github-token-AbCdEf';
// The description the config parser makes (what readSettings hands the stack, and the functions read back).
const rotation = (overrides: Partial<RotationDescription>): RotationDescription => ({
  mode: 'manual',
  every: '90d',
  overlap: '24h',
  ...overrides,
});
const SOURCES = [
  sourceFor({
    name: 'gh',
    scheme: 'github',
    rotation: rotation({
      mode: 'github',
      every: '30d',
      github: { repository: 'acme/shop', hookId: 42 },
      tokenSecretArn: TOKEN_ARN,
    }),
  }),
  sourceFor({
    name: 'team',
    scheme: 'hmac',
    hmac: { header: 'x-signature' },
    rotation: rotation({ mode: 'shared', every: '7d' }),
  }),
  sourceFor({ name: 'stripe', scheme: 'stripe' }),
  sourceFor({ name: 'slack', scheme: 'slack', rotation: rotation({ mode: 'manual', every: '180d' }) }),
];

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

describe('secret rotation in the synthesized stack', () => {
  const { stack, template: build, app } = synth(prodSettings({ sources: SOURCES }));
  const template = build();
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const secretLogicalId = (source: string) => stack.getLogicalId(stack.secrets.generated.get(source)?.node.defaultChild as never);

  it('schedules rotation only for github and shared sources, every "every"', () => {
    const schedules = ofType('AWS::SecretsManager::RotationSchedule');
    expect(schedules.map(([, r]) => (r.Properties.SecretId as { Ref: string }).Ref).sort()).toEqual(
      [secretLogicalId('gh'), secretLogicalId('team')].sort(),
    );
    const every = Object.fromEntries(
      schedules.map(([, r]) => [
        (r.Properties.SecretId as { Ref: string }).Ref,
        r.Properties.RotationRules as { ScheduleExpression?: string; AutomaticallyAfterDays?: number },
      ]),
    );
    expect(JSON.stringify(every[secretLogicalId('gh')])).toMatch(/30/);
    expect(JSON.stringify(every[secretLogicalId('team')])).toMatch(/7/);
  });

  it("lets the rotation function read and write only its sources' secrets, and read the GitHub token secret", () => {
    const role = stack.rotation.rotationFunction?.role;
    const roleId = stack.getLogicalId(role?.node.defaultChild as never);
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, r]) => (r.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId))
      .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    const resourcesOf = (action: string) =>
      secretStatements.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
    const written = JSON.stringify(resourcesOf('secretsmanager:PutSecretValue'));
    expect(written).toContain(secretLogicalId('gh'));
    expect(written).toContain(secretLogicalId('team'));
    expect(written).not.toContain(secretLogicalId('stripe'));
    expect(written).not.toContain(secretLogicalId('slack'));
    expect(written).not.toContain('github-token');
    expect(JSON.stringify(resourcesOf('secretsmanager:GetSecretValue'))).toContain(TOKEN_ARN);
    // Nothing but GetRandomPassword (no resource to scope to) on "*".
    for (const s of secretStatements.filter((st) => JSON.stringify(st.Resource) === '"*"'))
      expect([s.Action].flat()).toEqual(['secretsmanager:GetRandomPassword']);
    // Secrets Manager of this account only (confused deputy): without SourceAccount any account's could invoke it.
    const invokes = template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'secretsmanager.amazonaws.com' } });
    expect(Object.values(invokes).map((r) => r.Properties)).toEqual([
      expect.objectContaining({ Action: 'lambda:InvokeFunction', SourceAccount: { Ref: 'AWS::AccountId' } }),
    ]);
  });

  it('lets the rotation function tag only its rotated secrets, and with the current-since tag only (finishSecret records the promotion)', () => {
    const roleId = stack.getLogicalId(stack.rotation.rotationFunction?.role?.node.defaultChild as never);
    const tagging = ofType('AWS::IAM::Policy')
      .filter(([, r]) => (r.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId))
      .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Array<Statement & { Condition?: unknown }> }).Statement)
      .filter((s) => [s.Action].flat().includes('secretsmanager:TagResource'));
    // One statement for every rotated secret: the role's policy grows by an ARN per source, not a statement.
    expect(tagging.map((s) => s.Resource)).toEqual([[{ Ref: secretLogicalId('gh') }, { Ref: secretLogicalId('team') }]]);
    expect(tagging[0]?.Action).toBe('secretsmanager:TagResource');
    expect(tagging[0]?.Condition).toEqual({ 'ForAllValues:StringEquals': { 'aws:TagKeys': [CURRENT_SINCE_TAG] } });
  });

  it('checks manual sources\' key age daily and alarms past "every", naming the source and the exact rotate command', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    const due = ofType('AWS::CloudWatch::Alarm').filter(([, r]) => String(r.Properties.AlarmName).includes('KeyDue'));
    expect(due.map(([, r]) => r.Properties.AlarmName).sort()).toEqual(['Hookwarden-prod-KeyDue-slack', 'Hookwarden-prod-KeyDue-stripe']);
    const stripe = due.find(([, r]) => r.Properties.AlarmName === 'Hookwarden-prod-KeyDue-stripe')?.[1].Properties as Record<
      string,
      unknown
    >;
    expect(stripe).toMatchObject({
      MetricName: 'SecretKeyAgeSeconds',
      Namespace: 'Hookwarden-prod',
      Threshold: 90 * 86_400,
      ComparisonOperator: 'GreaterThanThreshold',
      Statistic: 'Maximum',
      Period: 86_400,
    });
    // Published once a day and evaluated every minute over the last day: a run later than the one before leaves the
    // window empty for a while, and the state must be kept through it (not turned OK, to page again at the next check).
    expect(stripe.TreatMissingData).toBe('ignore');
    expect((stripe.Period as number) * (stripe.EvaluationPeriods as number)).toBeGreaterThanOrEqual(86_400);
    expect(stripe.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'source', Value: 'stripe' },
        { Name: 'service', Value: 'hookwarden-prod' },
      ]),
    );
    expect(resolveIntrinsics(stripe.AlarmDescription)).toMatch(
      /Source "stripe": its current key is older than 90d .* run: AWS_REGION=us-east-1 hookwarden rotate stripe --stack Hookwarden-prod --secret-env NEW_SECRET$/,
    );
    expect(JSON.stringify(stripe.AlarmActions)).toContain(stack.getLogicalId(stack.alarms.topic.node.defaultChild as never));
    const keyAge = stack.rotation.keyAgeFunction;
    const env = (
      resources[stack.getLogicalId(keyAge?.node.defaultChild as never)]?.Properties.Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(env.HOOKWARDEN_KEY_AGE_SOURCES_FILE).toBe(KEY_AGE_SOURCES_FILE);
    expect(stack.rotation.agedSources.map((s) => s.source)).toEqual(['stripe', 'slack']);
  });

  // Lambda refuses a function whose environment passes 4 KB (the deploy fails, not the synth): the source lists ship in the bundle.
  it("keeps every function's environment under Lambda's 4 KB with 90 sources of imported secrets; the lists ship in the bundles", () => {
    const arn = (i: number) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden/provider-source-${i}/keys-AbCdEf`;
    const many = Array.from({ length: 90 }, (_, i) =>
      sourceFor({
        name: `provider-source-${i}`,
        secretArn: arn(i),
        generateSecret: false,
        ...(i % 2 ? { scheme: 'hmac' as const, hmac: { header: 'x-signature' }, rotation: rotation({ mode: 'shared', every: '7d' }) } : {}),
      }),
    );
    const big = synth(prodSettings({ sources: many }));
    const functions = Object.entries(big.template().toJSON().Resources as Record<string, Resource>).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const [id, fn] of functions) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      // A table name (a token here) is at most 255 characters.
      const bytes = Object.entries(variables).reduce(
        (sum, [k, v]) => sum + Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 255),
        0,
      );
      expect(bytes, id).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    }
    expect(big.stack.rotation.agedSources).toHaveLength(45);
    expect(big.stack.rotation.agedSources[0]).toEqual({ source: 'provider-source-0', secretId: arn(0) });
    expect(big.stack.rotation.rotatedSources).toHaveLength(45);
  });

  it("alarms on rotation function errors and on Secrets Manager's RotationFailed events", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Hookwarden-prod-RotationErrors',
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'Hookwarden-prod-KeyAgeErrors', MetricName: 'Errors' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['RotationFailed'] },
      },
      Targets: Match.arrayWith([Match.objectLike({ Arn: { Ref: stack.getLogicalId(stack.alarms.topic.node.defaultChild as never) } })]),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AllowRotationFailedRule', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
  });

  it("acknowledges cdk-nag's SMG4 on manual sources only, with that reason, and synthesizes clean", () => {
    const acknowledged = (source: string) =>
      (stack.secrets.generated.get(source)?.node.metadata ?? [])
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledged('gh')).toEqual([]);
    expect(acknowledged('team')).toEqual([]);
    for (const source of ['stripe', 'slack'])
      expect(acknowledged(source)).toEqual([
        [expect.stringMatching(/AwsSolutions-SMG4/), expect.stringMatching(/manual source's signing secret is issued by the provider/)],
      ]);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('GitHub Enterprise Server: HOOKWARDEN_GITHUB_API_URL at deploy', () => {
  const settingsWith = (url: string) =>
    readSettings(() => undefined, { HOOKWARDEN_GITHUB_API_URL: url }, mkdtempSync(join(tmpdir(), 'hookwarden-ghes-')));

  it('reaches the rotation function, which would otherwise send the Enterprise token to api.github.com', () => {
    const { settings, problems } = settingsWith('https://ghe.example.com/api/v3');
    expect(problems).toEqual([]);
    const { stack, template } = synth(
      prodSettings({ sources: SOURCES, ...(settings.githubApiUrl ? { githubApiUrl: settings.githubApiUrl } : {}) }),
    );
    template().hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          HOOKWARDEN_ROTATION_SOURCES_FILE: ROTATION_SOURCES_FILE,
          HOOKWARDEN_GITHUB_API_URL: 'https://ghe.example.com/api/v3',
        }),
      },
    });
    expect(stack.rotation.rotationFunction).toBeDefined();
  });

  it.each(['http://ghe.example.com/api/v3', 'https://user:pass@ghe.example.com/api/v3', 'user:pass@ghe.example.com', 'ghe.example.com'])(
    'refuses %s, naming the variable',
    (url) => {
      const { problems } = settingsWith(url);
      expect(problems.some((p) => p.startsWith('HOOKWARDEN_GITHUB_API_URL: must be an https URL'))).toBe(true);
      expect(JSON.stringify(problems)).not.toContain('pass@');
    },
  );
});

/**
 * Secrets Manager's `RotationFailed` as EventBridge receives it from CloudTrail: an AWS service event
 * (no caller, `requestParameters` null) naming the secret by complete ARN in `additionalEventData.SecretId`.
 * The shape is not in the Secrets Manager user guide's samples; it is what others report from real events
 * (see the report of this change), so the rule also alerts on an event that names its secret nowhere it looks.
 */
const rotationFailed = (additionalEventData: Record<string, unknown> | undefined) => ({
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'AWS Service Event via CloudTrail',
  source: 'aws.secretsmanager',
  account: '123456789012',
  time: '2026-11-29T14:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    eventVersion: '1.08',
    userIdentity: { accountId: '123456789012', invokedBy: 'secretsmanager.amazonaws.com' },
    eventTime: '2026-11-29T14:00:00Z',
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'RotationFailed',
    awsRegion: 'us-east-1',
    sourceIPAddress: 'secretsmanager.amazonaws.com',
    userAgent: 'secretsmanager.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    ...(additionalEventData ? { additionalEventData } : {}),
    requestID: 'b2f9e7a0-0c5d-4f0e-9f43-6b0d2c1e5a11',
    eventID: '0c0b51dc-c68a-4c9c-8205-c5e630875d23',
    readOnly: false,
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: '123456789012',
    eventCategory: 'Management',
  },
});

describe("the RotationFailed rule: this stack's secrets only", () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:';
  const imported = `${ARN}billing-keys-XyZ123`;
  const { stack, template } = synth(
    prodSettings({ sources: [...SOURCES, sourceFor({ name: 'billing', secretArn: imported, generateSecret: false })] }),
  );
  const resources = template().toJSON().Resources as Record<string, Resource>;
  const rule = resources[stack.getLogicalId(stack.rotation.rotationFailed.node.defaultChild as never)];
  const pattern = resolveIntrinsics(rule?.Properties.EventPattern) as Record<string, unknown>;
  const matches = (event: unknown) => matchesPattern(pattern, event);

  it.each([
    ['a github source by complete ARN', `${ARN}Hookwarden-prod/gh/keys-AbCdEf`],
    ['a shared source by complete ARN', `${ARN}Hookwarden-prod/team/keys-Q1w2E3`],
    ['a manual source by complete ARN (rotation enabled by hand)', `${ARN}Hookwarden-prod/stripe/keys-Zz9Yy8`],
    ['a generated secret by name', 'Hookwarden-prod/gh/keys'],
    ['a generated secret by partial ARN', `${ARN}Hookwarden-prod/gh/keys`],
    ['an imported secret by complete ARN', imported],
    ['an imported secret by name', 'billing-keys'],
  ])('alerts on %s', (_name, SecretId) => {
    expect(matches(rotationFailed({ SecretId }))).toBe(true);
  });

  it.each([
    ["another stack's secret", `${ARN}Hookwarden-dev/gh/keys-AbCdEf`],
    ["another application's secret", `${ARN}rds-db-credentials/cluster-ABC/admin-Q1w2E3`],
    ['the same name in another account', 'arn:aws:secretsmanager:us-east-1:210987654321:secret:Hookwarden-prod/gh/keys-AbCdEf'],
    ['the same name in another region', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Hookwarden-prod/gh/keys-AbCdEf'],
  ])('stays silent on %s', (_name, SecretId) => {
    expect(matches(rotationFailed({ SecretId }))).toBe(false);
  });

  it('alerts on a RotationFailed that names its secret in no field it reads (a shape not seen before is never missed)', () => {
    expect(matches(rotationFailed(undefined))).toBe(true);
    expect(matches(rotationFailed({ somethingElse: 'x' }))).toBe(true);
  });

  it.each(['serviceEventDetails', 'requestParameters'])(
    "alerts on an event naming a secret only in %s.secretId, ours or another stack's (one alert too many, never one missed)",
    (field) => {
      const named = (secretId: string) => {
        const event = rotationFailed(undefined);
        return { ...event, detail: { ...event.detail, [field]: { secretId } } };
      };
      expect(matches(named(`${ARN}Hookwarden-prod/team/keys-Q1w2E3`))).toBe(true);
      expect(matches(named(`${ARN}Hookwarden-dev/team/keys-Q1w2E3`))).toBe(true);
    },
  );

  it('keeps its pattern under the 2,048 characters EventBridge accepts, whatever the number of generated sources', () => {
    const many = Array.from({ length: 30 }, (_, i) => sourceFor({ name: `source-with-a-long-name-${i}` }));
    const { stack: big, template: bigTemplate } = synth(prodSettings({ sources: [...SOURCES, ...many] }));
    const bigRule = (bigTemplate().toJSON().Resources as Record<string, Resource>)[
      big.getLogicalId(big.rotation.rotationFailed.node.defaultChild as never)
    ];
    const text = JSON.stringify(resolveIntrinsics(bigRule?.Properties.EventPattern));
    // Generated secrets by the stack's prefix, not one by one.
    expect(text).not.toContain('source-with-a-long-name');
    expect(text.length).toBeLessThan(2048);
  });

  // Each imported secret adds about 220 characters: at eight, the rule passed EventBridge's 2,048 (a failed deploy).
  it('with more imported secrets than its pattern holds, matches every RotationFailed instead of failing the deploy', () => {
    const many = Array.from({ length: 20 }, (_, i) =>
      sourceFor({ name: `provider-source-${i}`, secretArn: `${ARN}hookwarden/provider-source-${i}/keys-AbCdEf`, generateSecret: false }),
    );
    const { stack: big, template: bigTemplate } = synth(prodSettings({ sources: [...SOURCES, ...many] }));
    const bigRule = (bigTemplate().toJSON().Resources as Record<string, Resource>)[
      big.getLogicalId(big.rotation.rotationFailed.node.defaultChild as never)
    ];
    const bigPattern = resolveIntrinsics(bigRule?.Properties.EventPattern) as Record<string, unknown>;
    expect(JSON.stringify(bigPattern).length).toBeLessThanOrEqual(2048);
    expect(matchesPattern(bigPattern, rotationFailed({ SecretId: `${ARN}hookwarden/provider-source-19/keys-AbCdEf` }))).toBe(true);
    expect(matchesPattern(bigPattern, rotationFailed({ SecretId: `${ARN}Hookwarden-prod/gh/keys-AbCdEf` }))).toBe(true);
    // The stack above, with one imported secret, still names its secrets.
    expect(JSON.stringify(pattern)).toContain('billing-keys');
  });

  it('stays silent on other Secrets Manager events', () => {
    const succeeded = rotationFailed({ SecretId: `${ARN}Hookwarden-prod/gh/keys-AbCdEf` });
    expect(matches({ ...succeeded, detail: { ...succeeded.detail, eventName: 'RotationSucceeded' } })).toBe(false);
  });
});

// IAM stores each policy with its ARNs resolved: 10,240 characters of inline policy per role, 6,144 per managed policy
// and 10 managed policies per role (default quotas). CDK splits a role's statements by its own estimate, but cannot split
// one statement: one TagResource statement listing every rotated secret passed 6,144 at about 60 sources (a failed deploy).
describe("the rotation role's policies at the most sources a stack holds", () => {
  const sources = Array.from({ length: MAX_SOURCES_PER_STACK }, (_, i) =>
    sourceFor({
      name: `source-${i}`,
      scheme: 'hmac',
      hmac: { header: 'x-signature' },
      rotation: rotation({ mode: 'shared', every: '7d' }),
    }),
  );
  const { stack, template } = synth(prodSettings({ sources }));
  const resources = template().toJSON().Resources as Record<string, Resource>;
  // Resolved as IAM stores them: a secret's ARN ends in its name and a 6-character suffix; other references get 100 characters.
  const resolved = (document: unknown): string =>
    JSON.stringify(
      resolveIntrinsics(document, (logicalId) => {
        const secret = resources[logicalId];
        return secret?.Type === 'AWS::SecretsManager::Secret'
          ? `arn:aws:secretsmanager:us-east-1:123456789012:secret:${String(secret.Properties.SecretName)}-AbCdEf`
          : 'x'.repeat(100);
      }),
    );
  const roleId = stack.getLogicalId(stack.rotation.rotationFunction?.role?.node.defaultChild as never);
  const ofRole = (type: string) =>
    Object.values(resources).filter(
      (r) => r.Type === type && (r.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId),
    );

  it('keeps every policy of the rotation role within IAM quotas, the TagResource grant included', () => {
    const inline = ofRole('AWS::IAM::Policy').map((r) => resolved(r.Properties.PolicyDocument).length);
    const managed = ofRole('AWS::IAM::ManagedPolicy').map((r) => resolved(r.Properties.PolicyDocument).length);
    expect(inline.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_240);
    expect(managed.length).toBeLessThanOrEqual(10);
    for (const size of managed) expect(size).toBeLessThanOrEqual(6_144);
    // Every rotated secret may still be tagged, with the current-since tag only.
    const tagged = [...ofRole('AWS::IAM::Policy'), ...ofRole('AWS::IAM::ManagedPolicy')]
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Array<Statement & { Condition?: unknown }> }).Statement)
      .filter((s) => [s.Action].flat().includes('secretsmanager:TagResource'));
    for (const s of tagged) expect(s.Condition).toEqual({ 'ForAllValues:StringEquals': { 'aws:TagKeys': [CURRENT_SINCE_TAG] } });
    const ids = (refs: string[]) => [...refs].sort();
    expect(ids(tagged.flatMap((s) => [s.Resource].flat()).map((ref) => (ref as { Ref: string }).Ref))).toEqual(
      ids(sources.map((s) => stack.getLogicalId(stack.secrets.generated.get(s.name)?.node.defaultChild as never))),
    );
  });
});
