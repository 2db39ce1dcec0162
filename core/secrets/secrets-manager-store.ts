import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { KeyDocumentStore } from './rotation.js';

/** The version id that holds `stage`, from DescribeSecret's `VersionIdsToStages`. */
const versionWith = (stages: Record<string, string[]> | undefined, stage: string): string | undefined =>
  Object.entries(stages ?? {}).find(([, labels]) => labels.includes(stage))?.[0];

/**
 * A source's key document in Secrets Manager: `AWSCURRENT` is what the
 * functions read, the rotation's pending document is the version named by its
 * token with `AWSPENDING`, and promoting moves `AWSCURRENT` to it (Secrets
 * Manager then labels the former version `AWSPREVIOUS`).
 */
export const secretsManagerKeyStore = (client: SecretsManagerClient, secretId: string): KeyDocumentStore => ({
  readCurrent: async () => (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }))).SecretString,
  readPending: async (token) => {
    try {
      return (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' })))
        .SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  },
  writePending: async (token, text) => {
    await client.send(
      new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: text, VersionStages: ['AWSPENDING'] }),
    );
  },
  promote: async (token) => {
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    const current = versionWith(described.VersionIdsToStages, 'AWSCURRENT');
    if (current === token) return;
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        ...(current ? { RemoveFromVersionId: current } : {}),
      }),
    );
  },
});
