import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { HookwardenStack } from '../../lib/hookwarden-stack.js';
import { SecretAudit } from '../../lib/constructs/secret-audit.js';
import { SourceSecrets } from '../../lib/constructs/source-secrets.js';
import { matchesPattern } from './event-pattern.js';
import { resolveIntrinsics } from './intrinsics.js';
import { NO_BUNDLING, prodSettings, settingsFor, sourceFor, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

/**
 * One `GetSecretValue` as EventBridge delivers it from CloudTrail (the shape of the
 * "AWS API Call via CloudTrail" samples in the CloudTrail and Secrets Manager user
 * guides): an administrator's SSO role reading a webhook secret by complete ARN.
 * Each case changes exactly one thing.
 */
const FIXTURE = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'cloudtrail-get-secret-value.json'), 'utf8')) as {
  detail: Record<string, unknown>;
};
const ACCOUNT = '123456789012';
const ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:`;

const withDetail = (changes: Record<string, unknown>) => ({ ...FIXTURE, detail: { ...FIXTURE.detail, ...changes } });
const readOf = (secretId: string) => withDetail({ requestParameters: { secretId } });
const by = (userIdentity: Record<string, unknown>) => withDetail({ userIdentity });
const assumedRole = (roleArn: string, session: string) => ({
  type: 'AssumedRole',
  principalId: `AROAEXAMPLE:${session}`,
  arn: `${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}`,
  accountId: ACCOUNT,
  accessKeyId: 'ASIAEXAMPLE',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: roleArn, accountId: ACCOUNT, userName: roleArn.split('/').pop() },
    webIdFederationData: {},
    attributes: { creationDate: '2026-11-29T13:00:00Z', mfaAuthenticated: 'false' },
  },
});

describe('the secret-access audit rule, run on CloudTrail events', () => {
  const imported = `${ARN}billing-XyZ123`;
  const { stack, template } = synth(
    prodSettings({
      sources: [
        sourceFor({ name: 'github', scheme: 'github' }),
        sourceFor({ name: 'billing', secretArn: imported, generateSecret: false }),
        // A shared source, so the stack has a rotation function beside the daily key-age check of the manual ones.
        sourceFor({ name: 'team', rotation: { mode: 'shared', every: '7d', overlap: '24h' } }),
      ],
    }),
  );
  const resources = template().toJSON().Resources as Record<string, Resource>;
  // Deployed role ARNs: what CloudFormation names them (stack name, logical id, a suffix).
  const roleArn = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${stack.stackName}-${id.slice(0, 40)}-1A2B3C4D5E6F`;
  // The audit's rule (the rotation construct's daily and RotationFailed rules are asserted in rotation.test.ts).
  const rules = Object.values(resources).filter(
    (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.EventPattern ?? {}).includes('GetSecretValue'),
  );
  const pattern = resolveIntrinsics(rules[0]?.Properties.EventPattern, (id, attribute) =>
    attribute === 'Arn' && resources[id]?.Type === 'AWS::IAM::Role' ? roleArn(id) : `${id}.${attribute}`,
  ) as Record<string, unknown>;
  const webhookRole = roleArn(Object.keys(resources).find((id) => id.startsWith('FunctionsWebhookRole')) as string);
  const matches = (event: unknown) => matchesPattern(pattern, event);

  it('is one rule, on all CloudTrail management events (GetSecretValue is a read-only one)', () => {
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    expect(matches(FIXTURE)).toBe(true);
  });

  it.each([
    ['a generated secret by complete ARN', `${ARN}Hookwarden-prod/github/keys-AbCdEf`],
    ['a generated secret by name', 'Hookwarden-prod/github/keys'],
    ['a generated secret by partial ARN (no random suffix)', `${ARN}Hookwarden-prod/github/keys`],
    ['an imported secret by complete ARN', imported],
    ['an imported secret by name', 'billing'],
    ['an imported secret by partial ARN', `${ARN}billing`],
  ])('alerts on a read of %s', (_name, secretId) => {
    expect(matches(readOf(secretId))).toBe(true);
  });

  it.each([
    [
      'another role (an SSO administrator)',
      assumedRole(
        'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef',
        'alice',
      ),
    ],
    [
      "another stage's webhook function role",
      assumedRole(`arn:aws:iam::${ACCOUNT}:role/Hookwarden-dev-FunctionsWebhookRole-1A2B3C4D5E6F`, 'Hookwarden-dev-FunctionsWebhook'),
    ],
    [
      'an IAM user with a long-term access key (no session context)',
      {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLE',
        arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
        accountId: ACCOUNT,
        accessKeyId: 'AKIAEXAMPLE',
        userName: 'ci',
      },
    ],
    [
      'an IAM user in the console (session attributes, no issuer)',
      {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLE',
        arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
        accountId: ACCOUNT,
        accessKeyId: 'ASIAEXAMPLE',
        userName: 'bob',
        sessionContext: { attributes: { creationDate: '2026-11-29T13:00:00Z', mfaAuthenticated: 'true' } },
      },
    ],
    [
      'the root user',
      {
        type: 'Root',
        principalId: ACCOUNT,
        arn: `arn:aws:iam::${ACCOUNT}:root`,
        accountId: ACCOUNT,
        accessKeyId: 'ASIAEXAMPLE',
        sessionContext: { attributes: { creationDate: '2026-11-29T13:00:00Z', mfaAuthenticated: 'true' } },
      },
    ],
    ['an AWS service', { type: 'AWSService', invokedBy: 'lambda.amazonaws.com' }],
  ])('alerts on a read by %s', (_name, identity) => {
    expect(matches(by(identity))).toBe(true);
  });

  it("stays quiet for the webhook function's own reads, however it names the secret", () => {
    for (const secretId of ['Hookwarden-prod/github/keys', `${ARN}Hookwarden-prod/github/keys-AbCdEf`, imported]) {
      expect(
        matches({
          ...readOf(secretId),
          detail: { ...readOf(secretId).detail, userIdentity: assumedRole(webhookRole, 'Hookwarden-prod-FunctionsWebhook') },
        }),
      ).toBe(false);
    }
  });

  it("stays quiet for the stack's own rotation function and daily key-age check (by default every source is manual: a read a day)", () => {
    const ownRole = (prefix: string) => roleArn(Object.keys(resources).find((id) => id.startsWith(prefix)) as string);
    const reads: Array<[string, string]> = [
      [ownRole('RotationKeyAgeRole'), 'Hookwarden-prod/github/keys'],
      [ownRole('RotationRotationRole'), `${ARN}Hookwarden-prod/team/keys-AbCdEf`],
    ];
    for (const [role, secretId] of reads) {
      expect(
        matches({ ...readOf(secretId), detail: { ...readOf(secretId).detail, userIdentity: assumedRole(role, 'own-function') } }),
        role,
      ).toBe(false);
    }
  });

  it('stays quiet for other secrets and other calls', () => {
    expect(matches(readOf(`${ARN}someone-else-XyZ123`))).toBe(false);
    expect(matches(readOf('Hookwarden-dev/github/keys'))).toBe(false);
    expect(matches(readOf(`${ARN}Hookwarden-dev/github/keys-AbCdEf`))).toBe(false);
    expect(matches(withDetail({ eventName: 'DescribeSecret' }))).toBe(false);
    expect(matches({ ...FIXTURE, source: 'aws.kms' })).toBe(false);
  });
});

describe('the secret-access audit rule with many imported secrets', () => {
  const warningsOf = (imported: number) => {
    const sources = Array.from({ length: imported }, (_, i) =>
      sourceFor({
        name: `imported-${i}`,
        secretArn: `${ARN}team-payments/imported-${i}-AbC${String(i).padStart(3, '0')}`,
        generateSecret: false,
      }),
    );
    const { stack } = synth(prodSettings({ sources: [sourceFor({ name: 'github', scheme: 'github' }), ...sources] }));
    return Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('secret audit rule'))
      .map((w) => String(w.entry.data));
  };

  // EventBridge refuses a pattern over 2,048 characters at deploy; the audit has no safe fallback, so the synth says so.
  it('warns at synth when its pattern passes what EventBridge accepts, naming the quota to raise', () => {
    const [warning, ...more] = warningsOf(12);
    expect(more).toEqual([]);
    expect(warning).toMatch(/event pattern takes up to \d{4} characters with 12 imported secrets; EventBridge refuses more than 2048/);
    expect(warning).toMatch(/"Event pattern size" quota .*up to 4,096/);
  });

  it('says nothing with a few', () => {
    expect(warningsOf(2)).toEqual([]);
  });
});

// A stack given a `stackName` of its own (or placed in a Stage) names its secrets under the deployed name; the audit
// watched the construct id's prefix instead, so no read of them, by anyone, was ever seen, and the key-age alarm told the
// on-call to run `hookwarden rotate --stack` on a stack that does not exist.
describe('the audit of a stack whose deployed name is not its id', () => {
  const app = new App({ context: NO_BUNDLING });
  const stack = new HookwardenStack(app, 'Webhooks', {
    settings: settingsFor({ sources: [sourceFor({ name: 'github', scheme: 'github' })] }),
    stackName: 'webhooks-dev',
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  const secretName = Object.values(resources).find((r) => r.Type === 'AWS::SecretsManager::Secret')?.Properties.Name;
  const audit = Object.values(resources).find(
    (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.EventPattern ?? {}).includes('GetSecretValue'),
  );
  const pattern = resolveIntrinsics(audit?.Properties.EventPattern, (id, attribute) => `${id}.${attribute}`) as Record<string, unknown>;

  it('alerts on a read of its secrets, by name and by ARN', () => {
    expect(secretName).toBe('webhooks-dev/github/keys');
    expect(matchesPattern(pattern, readOf('webhooks-dev/github/keys'))).toBe(true);
    expect(matchesPattern(pattern, readOf(`${ARN}webhooks-dev/github/keys-AbCdEf`))).toBe(true);
  });

  it('names the deployed stack in the key-age alarm’s rotate command', () => {
    const description = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => String(resolveIntrinsics(r.Properties.AlarmDescription ?? '')))
      .find((text) => text.includes('hookwarden rotate'));
    expect(description).toContain('--stack webhooks-dev');
    expect(description).not.toContain('--stack Webhooks ');
  });
});

// Composed by hand: SourceSecrets given one prefix and SecretAudit another synthesized, and the audit watched nothing.
describe('a SecretAudit composed with SourceSecrets of another prefix', () => {
  const compose = (auditPrefix: string, importedSecretArns: string[] = []) => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Team');
    new SourceSecrets(stack, 'Secrets', {
      namePrefix: 'team-a',
      sources: [sourceFor({ name: 'orders' }), sourceFor({ name: 'billing', secretArn: `${ARN}billing-XyZ123`, generateSecret: false })],
    });
    const topic = new Topic(stack, 'Topic');
    new SecretAudit(stack, 'Audit', {
      secretNamePrefix: auditPrefix,
      importedSecretArns,
      expectedReaders: [],
      topic,
      topicKey: new Key(stack, 'Key'),
      functionLogs: [],
    });
    return () => app.synth();
  };

  it('fails the synth naming each unwatched secret and the prop to set', () => {
    expect(compose('team-b')).toThrow(
      /secretNamePrefix "team-b" does not cover the secret of source "orders" \(Team\/Secrets\), named "team-a\/orders\/keys"/,
    );
    expect(compose('team-b')).toThrow(/importedSecretArns lacks the secret of source "billing"/);
  });

  it('synthesizes when the audit watches both', () => {
    expect(compose('team-a', [`${ARN}billing-XyZ123`])).not.toThrow();
  });
});
