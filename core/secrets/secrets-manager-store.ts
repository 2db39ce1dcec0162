import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { CURRENT_SINCE_TAG, PROMOTION_WITHIN_SECONDS, type KeyDocumentStore } from './rotation.js';

export { CURRENT_SINCE_TAG };

/** The version id that holds `stage`, from DescribeSecret's `VersionIdsToStages`. */
const versionWith = (stages: Record<string, string[]> | undefined, stage: string): string | undefined =>
  Object.entries(stages ?? {}).find(([, labels]) => labels.includes(stage))?.[0];

const markerOf = (tags: readonly Tag[] | undefined): { versionId: string; seconds: number } | undefined => {
  const match = /^(.+)@(\d+)$/.exec(tags?.find((tag) => tag.Key === CURRENT_SINCE_TAG)?.Value ?? '');
  return match ? { versionId: match[1] as string, seconds: Number(match[2]) } : undefined;
};

/** Epoch seconds, rounded up: never earlier than the date. */
const secondsOf = (date: Date | undefined): number | undefined => (date ? Math.ceil(date.getTime() / 1000) : undefined);

/**
 * A source's key document in Secrets Manager: `AWSCURRENT` is what the
 * functions read, the rotation's pending document is the version named by its
 * token with `AWSPENDING`, and promoting moves `AWSCURRENT` to it (Secrets
 * Manager then labels the former version `AWSPREVIOUS`) and records when, in
 * the {@link CURRENT_SINCE_TAG} tag (`secretsmanager:TagResource` on the secret).
 * @param now clock of the promotion time, epoch milliseconds
 */
export const secretsManagerKeyStore = (client: SecretsManagerClient, secretId: string, now: () => number = Date.now): KeyDocumentStore => ({
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
    const tag = (seconds: number) =>
      client.send(new TagResourceCommand({ SecretId: secretId, Tags: [{ Key: CURRENT_SINCE_TAG, Value: `${token}@${seconds}` }] }));
    if (current !== token) {
      // Ahead of the move, the latest time it can happen: if the tag after it fails, this one is never earlier than the move.
      await tag(Math.ceil(now() / 1000) + PROMOTION_WITHIN_SECONDS);
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(current ? { RemoveFromVersionId: current } : {}),
        }),
      );
    }
    // Taken after the move (or, on a repeated finish that finds no marker, later still): never before the promotion.
    if (current !== token || markerOf(described.Tags)?.versionId !== token) await tag(Math.ceil(now() / 1000));
  },
  currentSince: async () => {
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    const current = versionWith(described.VersionIdsToStages, 'AWSCURRENT');
    if (!current) return undefined;
    const created = secondsOf((await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: current }))).CreatedDate);
    const marker = markerOf(described.Tags);
    // Promoted by this store: the marker's time. A version written as AWSCURRENT (deployment, a manual rotation) became current when created.
    const known =
      marker?.versionId === current
        ? [marker.seconds, created]
        : // Promoted some other way (by hand, or before markers existed): LastChangedDate ("modified in any way") and
          // LastRotatedDate may postdate the move; without LastChangedDate nothing does, so: unknown (counted as now).
          described.LastChangedDate
          ? [created, secondsOf(described.LastChangedDate), secondsOf(described.LastRotatedDate)]
          : [];
    const dates = known.filter((seconds): seconds is number => seconds !== undefined);
    return dates.length > 0 ? Math.max(...dates) : undefined;
  },
});
