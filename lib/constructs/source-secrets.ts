import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { claimPhysicalName } from './physical-names.js';
import { Problems } from '../../core/config/rules.js';
import { ConfigError } from '../../core/errors.js';
import { PROVIDER_SECRET_PREFIX } from '../../core/redaction.js';
import { booleanProp } from './prop-checks.js';
import type { DeployedSource } from '../settings.js';

/** Props of {@link SourceSecrets}. */
export interface SourceSecretsProps {
  /** One secret per source: generated, or the source's `secretArn` imported. */
  readonly sources: readonly DeployedSource[];
  /**
   * Production keeps the secrets when the stack is deleted (RETAIN).
   * @default false
   */
  readonly production?: boolean;
  /**
   * Generated secrets are named `<namePrefix>/<source>/keys`: apart between
   * stages, known at synth (the functions' bundled configuration names them),
   * and one prefix for the access audit to match.
   * @default - the stack's name
   */
  readonly namePrefix?: string;
}

/**
 * Lets `grantee` use the customer-managed KMS key of a source's imported secret (`secretKmsKeyArn`), through Secrets
 * Manager only (`kms:ViaService`, in the key's region, which is the secret's): `kms:Decrypt` to read the secret, and
 * `kms:GenerateDataKey` too to write a version of it (Secrets Manager encrypts each version under a new data key).
 * Granting the secret is not enough: without the key's use every read fails with AccessDenied, on AWS only. CDK grants
 * the key with the secret only for a key it can add to the key policy of, never for an imported one. Nothing for a
 * source without a key (a generated secret, or one under the `aws/secretsmanager` key). The key's own policy must
 * allow the account (the default key policy does) or, for a key of another account, these roles.
 */
export const grantSecretKey = (grantee: IGrantable, source: Pick<DeployedSource, 'secretKmsKeyArn'>, write = false): void => {
  const key = source.secretKmsKeyArn;
  if (!key) return;
  const region = key.split(':')[3] as string;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: write ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      resources: [key],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    }),
  );
};

/** A provider's signing secret or token, by its prefix (as core/redaction.ts knows them): never a secret's name. */
const PROVIDER_SECRET = new RegExp(`^${PROVIDER_SECRET_PREFIX}`);

/** What Secrets Manager allows in a secret's name (a complete ARN is checked by its own form). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * Problems with the `secrets` and `secretIds` props of a construct that reads the sources' secrets (WebhookFunctions,
 * SecretRotation), as JavaScript may pass them: not Maps, a secret given as its value (a string) instead of an
 * `ISecret`, or a secret id that is a provider's secret rather than a name or complete ARN. A value there would be
 * written into the bundled configuration, sent as `SecretId` on every read (and so kept in CloudTrail), and, for a
 * rotated source, put in the template's RotationFailed rule. No value is quoted.
 */
export const secretPropsProblems = (secrets: unknown, secretIds: unknown): string[] => {
  const problems: string[] = [];
  if (!(secrets instanceof Map))
    problems.push('secrets: must be a Map from source name to ISecret (SourceSecrets.secrets, or Secret.fromSecretCompleteArn)');
  else
    for (const [name, secret] of secrets)
      if (typeof (secret as Partial<ISecret> | undefined)?.grantRead !== 'function')
        problems.push(
          `secrets: source "${String(name)}": must be an ISecret (Secret.fromSecretCompleteArn), not ${typeof secret === 'string' ? 'a string: never give a secret value in a prop' : typeof secret}`,
        );
  if (!(secretIds instanceof Map)) problems.push('secretIds: must be a Map from source name to a secret name or complete ARN');
  else
    for (const [name, secretId] of secretIds) {
      const where = `secretIds: source "${String(name)}"`;
      if (typeof secretId !== 'string') problems.push(`${where}: must be a secret name or complete ARN, not ${typeof secretId}`);
      else if (PROVIDER_SECRET.test(secretId))
        problems.push(`${where}: is a provider's secret, not a secret name or complete ARN: never give a secret value in a prop`);
      else if (!secretId.startsWith('arn:') && !SECRET_NAME.test(secretId) && !Token.isUnresolved(secretId))
        problems.push(`${where}: is not a secret name (letters, digits and /_+=.@-, up to 512) or a complete ARN`);
    }
  return problems;
};

/** The name of a generated source secret. */
export const sourceSecretName = (prefix: string, source: string): string => `${prefix}/${source}/keys`;

/**
 * Length of a generated key: alphanumerics only, and a multiple of 4, so the
 * same string is valid base64 (24 bytes here) for Standard Webhooks and a
 * plain shared secret for every other scheme.
 */
export const GENERATED_KEY_LENGTH = 32;

/** Why a `manual` source's secret has no scheduled rotation Lambda: a reviewer's question, answered once. */
const NO_SCHEDULED_ROTATION =
  "A manual source's signing secret is issued by the provider in its dashboard, and no schedule can change the provider's copy: a daily key-age check alarms when it is due (rotation.every) with the exact hookwarden rotate command, and rotation keeps the old key valid until its notAfter, so deliveries never fail mid-rotation. Reads are audited (SecretAudit).";

/**
 * One Secrets Manager secret per source, holding the key document the function
 * reads through its cache: `{"keys":[{"secret":"...","notAfter":<epoch s>}]}`.
 *
 * CloudFormation can only generate a top-level member, so a generated secret
 * starts as `{"keys":[],"secret":"<32 alphanumerics>"}`; the function counts
 * the top-level `secret` as one more key without expiry, and `hookwarden rotate`
 * rewrites the document into the `keys` form. The value never appears in the
 * template. For Standard Webhooks give the sender `whsec_` + that value (it is
 * already base64); for a provider that issues its own secret (Stripe, Slack,
 * Shopify, Svix) write its value with `put-secret-value`. A source with
 * `secretArn` uses that existing secret instead (encrypted with the key of its
 * `secretKmsKeyArn`, if any: {@link grantSecretKey}).
 */
export class SourceSecrets extends Construct {
  /** Every source's secret, by source name (generated or imported). */
  public readonly secrets: ReadonlyMap<string, ISecret>;
  /** The secrets this construct created, by source name. */
  public readonly generated: ReadonlyMap<string, Secret>;
  /**
   * What the functions pass as `SecretId`, by source name: the name of a
   * generated secret, the complete ARN of an imported one. Plain strings,
   * known at synth, so the configuration can ship inside the bundle.
   */
  public readonly secretIds: ReadonlyMap<string, string>;

  constructor(scope: Construct, id: string, props: SourceSecretsProps) {
    super(scope, id);
    const problems = new Problems();
    booleanProp(problems, 'production', props.production);
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    const secrets = new Map<string, ISecret>();
    const generated = new Map<string, Secret>();
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    const secretIds = new Map<string, string>();
    for (const source of props.sources) {
      if (source.secretArn) {
        secrets.set(source.name, Secret.fromSecretCompleteArn(this, `${source.name}Imported`, source.secretArn));
        secretIds.set(source.name, source.secretArn);
        continue;
      }
      if (!source.generateSecret) continue;
      claimPhysicalName(this, 'secret name', sourceSecretName(prefix, source.name), 'namePrefix');
      const secret = new Secret(this, source.name, {
        secretName: sourceSecretName(prefix, source.name),
        description: `Hookwarden webhook signing keys for source "${source.name}" (${source.scheme})`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ keys: [] }),
          generateStringKey: 'secret',
          excludePunctuation: true,
          includeSpace: false,
          passwordLength: GENERATED_KEY_LENGTH,
        },
        removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      // github and shared sources get a RotationSchedule (SecretRotation): the finding applies to manual ones only.
      const mode = source.rotation?.mode ?? 'manual';
      if (mode === 'manual') acknowledge(secret, 'AwsSolutions-SMG4', NO_SCHEDULED_ROTATION);
      if (mode === 'off')
        acknowledge(
          secret,
          'AwsSolutions-SMG4',
          `Rotation is off for source "${source.name}": ${source.rotation?.reason ?? 'no reason given (refused in prod)'}`,
        );
      secrets.set(source.name, secret);
      generated.set(source.name, secret);
      secretIds.set(source.name, sourceSecretName(prefix, source.name));
    }
    this.secrets = secrets;
    this.generated = generated;
    this.secretIds = secretIds;
  }
}
