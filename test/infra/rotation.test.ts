import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { RotationDescription } from '../../core/config/rotation.js';
import { readSettings } from '../../lib/settings.js';
import { CURRENT_SINCE_TAG } from '../../core/secrets/rotation.js';
import { prodSettings, sourceFor, synth } from './helpers.js';

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
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
    });
  });

  it('lets the rotation function tag only its rotated secrets, and with the current-since tag only (finishSecret records the promotion)', () => {
    const roleId = stack.getLogicalId(stack.rotation.rotationFunction?.role?.node.defaultChild as never);
    const tagging = ofType('AWS::IAM::Policy')
      .filter(([, r]) => (r.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId))
      .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Array<Statement & { Condition?: unknown }> }).Statement)
      .filter((s) => [s.Action].flat().includes('secretsmanager:TagResource'));
    expect(tagging.map((s) => s.Resource)).toEqual([{ Ref: secretLogicalId('gh') }, { Ref: secretLogicalId('team') }]);
    for (const s of tagging) {
      expect(s.Action).toBe('secretsmanager:TagResource');
      expect(s.Condition).toEqual({ 'ForAllValues:StringEquals': { 'aws:TagKeys': [CURRENT_SINCE_TAG] } });
    }
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
    expect(stripe.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'source', Value: 'stripe' },
        { Name: 'service', Value: 'hookwarden-prod' },
      ]),
    );
    expect(stripe.AlarmDescription).toMatch(
      /Source "stripe": its current key is older than 90d .*hookwarden rotate stripe --stack Hookwarden-prod --secret-env NEW_SECRET/,
    );
    expect(JSON.stringify(stripe.AlarmActions)).toContain(stack.getLogicalId(stack.alarms.topic.node.defaultChild as never));
    const keyAge = stack.rotation.keyAgeFunction;
    const env = (
      resources[stack.getLogicalId(keyAge?.node.defaultChild as never)]?.Properties.Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(JSON.parse(env.HOOKWARDEN_KEY_AGE_SOURCES as string).map((s: { source: string }) => s.source)).toEqual(['stripe', 'slack']);
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
          HOOKWARDEN_ROTATION_SOURCES: Match.anyValue(),
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
