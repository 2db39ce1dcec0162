import { RemovalPolicy } from 'aws-cdk-lib';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DeployedSource } from '../settings';

/** Props of {@link SourceSecrets}. */
export interface SourceSecretsProps {
  readonly sources: readonly DeployedSource[];
  /** @default false */
  readonly production?: boolean;
}

/**
 * One Secrets Manager secret per source, holding the key document the
 * function reads (`{"keys":[{"secret","notAfter"}]}`). Generated at creation as
 * `{"keys":[],"secret":"<32 alphanumerics>"}`: valid for every scheme (also as
 * Standard Webhooks base64). For a provider that issues its own secret (Stripe,
 * Slack, Shopify, Svix), put its value in with `put-secret-value`. A source
 * with `secretArn` uses that existing secret instead.
 */
export class SourceSecrets extends Construct {
  /** By source name. */
  public readonly secrets: ReadonlyMap<string, ISecret>;

  constructor(scope: Construct, id: string, props: SourceSecretsProps) {
    super(scope, id);
    const secrets = new Map<string, ISecret>();
    for (const source of props.sources) {
      if (source.secretArn) {
        secrets.set(source.name, Secret.fromSecretCompleteArn(this, `${source.name}Imported`, source.secretArn));
        continue;
      }
      if (!source.generateSecret) continue;
      secrets.set(
        source.name,
        new Secret(this, source.name, {
          description: `Hookwarden webhook signing keys for source "${source.name}" (${source.scheme})`,
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ keys: [] }),
            generateStringKey: 'secret',
            excludePunctuation: true,
            includeSpace: false,
            passwordLength: 32,
          },
          removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        }),
      );
    }
    this.secrets = secrets;
  }
}
