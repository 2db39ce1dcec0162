import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RotationDescription } from '../../core/config/rotation.js';
import { readSettings } from '../../lib/settings.js';
import { prodSettings, sourceFor, synth } from './helpers.js';
import { resolveIntrinsics } from './intrinsics.js';

const STRIPE_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-AbCdEf';
const STRIPE_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const GH_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf';
const GH_KEY = 'arn:aws:kms:us-east-1:210987654321:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const githubRotation: RotationDescription = {
  mode: 'github',
  every: '30d',
  overlap: '24h',
  github: { repository: 'acme/shop', hookId: 42 },
  tokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:github-token-AbCdEf',
};

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
type Resource = { Type: string; Properties: Record<string, unknown> };

describe('a source whose imported secret is encrypted with a customer-managed KMS key (secretKmsKeyArn)', () => {
  const { stack, template } = synth(
    prodSettings({
      sources: [
        sourceFor(),
        sourceFor({ name: 'stripe', scheme: 'stripe', secretArn: STRIPE_SECRET, secretKmsKeyArn: STRIPE_KEY, generateSecret: false }),
        sourceFor({
          name: 'gh',
          scheme: 'github',
          secretArn: GH_SECRET,
          secretKmsKeyArn: GH_KEY,
          generateSecret: false,
          rotation: githubRotation,
        }),
      ],
    }),
  );
  const resources = template().toJSON().Resources as Record<string, Resource>;
  /** Every statement of the policies attached to a role, intrinsics resolved. */
  const statementsOf = (role: unknown): Statement[] => {
    const roleId = stack.getLogicalId(role as never);
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId))
      .flatMap((r) => resolveIntrinsics((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement) as Statement[]);
  };
  /** The KMS actions a role may call on `key`, with the conditions of each statement. */
  const kmsOn = (role: unknown, key: string) =>
    statementsOf(role)
      .filter((s) => s.Effect === 'Allow' && [s.Resource].flat().includes(key))
      .map((s) => ({ actions: [s.Action].flat().sort(), condition: s.Condition }));
  const viaSecretsManager = { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } };
  const roleOf = (fn: { role?: unknown } | undefined) => (fn?.role as { node: { defaultChild: unknown } }).node.defaultChild;

  it('lets the webhook function decrypt with each key, through Secrets Manager only', () => {
    const role = stack.functions.webhookRole.node.defaultChild;
    expect(kmsOn(role, STRIPE_KEY)).toEqual([{ actions: ['kms:Decrypt'], condition: viaSecretsManager }]);
    expect(kmsOn(role, GH_KEY)).toEqual([{ actions: ['kms:Decrypt'], condition: viaSecretsManager }]);
  });

  it("lets the key-age check decrypt its manual sources' keys only, and the rotation function encrypt and decrypt its sources' only", () => {
    const keyAge = roleOf(stack.rotation.keyAgeFunction);
    expect(kmsOn(keyAge, STRIPE_KEY)).toEqual([{ actions: ['kms:Decrypt'], condition: viaSecretsManager }]);
    expect(kmsOn(keyAge, GH_KEY)).toEqual([]);
    const rotation = roleOf(stack.rotation.rotationFunction);
    const rotationGrants = kmsOn(rotation, GH_KEY);
    expect(rotationGrants).toHaveLength(1);
    // A rotation writes a new version (PutSecretValue: a data key) and reads the current one.
    expect(rotationGrants[0]?.actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(rotationGrants[0]?.condition).toEqual(viaSecretsManager);
    expect(kmsOn(rotation, STRIPE_KEY)).toEqual([]);
  });

  it("grants no function that does not read the secret the key's use", () => {
    for (const fn of [stack.functions.health, stack.deliveriesApi?.reader, stack.deliveriesApi?.events]) {
      const role = roleOf(fn as { role?: unknown });
      expect(kmsOn(role, STRIPE_KEY)).toEqual([]);
      expect(kmsOn(role, GH_KEY)).toEqual([]);
    }
  });
});

describe('secretKmsKeyArn in the config file', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const problemsWith = (source: Record<string, unknown>): readonly string[] => {
    const dir = mkdtempSync(join(tmpdir(), 'hookwarden-kms-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'stripe', scheme: 'stripe', ...source }] }));
    return readSettings((key) => ({ stage: 'dev', corsOrigins: 'not an origin' })[key], {}, dir).problems;
  };

  it('reaches the stack as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookwarden-kms-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'stripe', scheme: 'stripe', secretArn: STRIPE_SECRET, secretKmsKeyArn: STRIPE_KEY }] }),
    );
    const { settings, problems } = readSettings(() => undefined, {}, dir);
    expect(problems).toEqual([]);
    expect(settings.sources[0]?.secretKmsKeyArn).toBe(STRIPE_KEY);
  });

  it.each([
    [
      'an alias',
      { secretArn: STRIPE_SECRET, secretKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/webhooks' },
      /must be a KMS key ARN/,
    ],
    ['a key id', { secretArn: STRIPE_SECRET, secretKmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' }, /must be a KMS key ARN/],
    ['not a string', { secretArn: STRIPE_SECRET, secretKmsKeyArn: 42 }, /must be a KMS key ARN/],
    ['without secretArn', { secretKmsKeyArn: STRIPE_KEY }, /is read only with "secretArn"/],
    [
      'in another region than the secret',
      { secretArn: STRIPE_SECRET, secretKmsKeyArn: STRIPE_KEY.replace('us-east-1', 'eu-west-1') },
      /is in aws eu-west-1, and the secret in aws us-east-1/,
    ],
    [
      'in another partition than the secret',
      { secretArn: STRIPE_SECRET, secretKmsKeyArn: STRIPE_KEY.replace('arn:aws:', 'arn:aws-us-gov:') },
      /is in aws-us-gov us-east-1, and the secret in aws us-east-1/,
    ],
  ])('refuses %s, listed with every other problem', (_case, source, expected) => {
    const problems = problemsWith(source);
    expect(problems).toContainEqual(expect.stringMatching(/^.*sources\[0\]\.secretKmsKeyArn: /));
    expect(problems.join('\n')).toMatch(expected);
    expect(problems.join('\n')).toMatch(/CORS origins/);
  });
});
