import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
  type DescribeSecretCommandOutput,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { sameKeys } from './key-document.js';
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
export const secretsManagerKeyStore = (client: SecretsManagerClient, secretId: string, now: () => number = Date.now): KeyDocumentStore => {
  /** Since when `current` (the `AWSCURRENT` version in `described`) has been current, as {@link KeyDocumentStore.currentSince}. */
  const sinceOf = async (described: DescribeSecretCommandOutput, current: string): Promise<number | undefined> => {
    const marker = markerOf(described.Tags);
    // Promoted by this store: the marker's time (after the move, the bound ahead of it, or, for the same document as the
    // one it replaced, that one's time: earlier than the version's creation). Otherwise, from the dates Secrets Manager keeps.
    if (marker?.versionId === current) return marker.seconds;
    const created = secondsOf((await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: current }))).CreatedDate);
    // A version written as AWSCURRENT (deployment, a manual rotation) became current when created.
    const known =
      // Promoted some other way (by hand, or before markers existed): LastChangedDate ("modified in any way") and
      // LastRotatedDate may postdate the move; without LastChangedDate nothing does, so: unknown (counted as now).
      described.LastChangedDate ? [created, secondsOf(described.LastChangedDate), secondsOf(described.LastRotatedDate)] : [];
    const dates = known.filter((seconds): seconds is number => seconds !== undefined);
    return dates.length > 0 ? Math.max(...dates) : undefined;
  };
  const textOf = async (versionId: string): Promise<string | undefined> =>
    (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }))).SecretString;
  return {
    readCurrent: async () =>
      (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }))).SecretString,
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
    promote: async (token, expectedCurrent) => {
      const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      const current = versionWith(described.VersionIdsToStages, 'AWSCURRENT');
      const tag = (seconds: number) =>
        client.send(new TagResourceCommand({ SecretId: secretId, Tags: [{ Key: CURRENT_SINCE_TAG, Value: `${token}@${seconds}` }] }));
      if (current !== token) {
        const currentText = current !== undefined ? await textOf(current) : undefined;
        // Made current after the caller's check (an operator's edit): moving the label off it would undo it. A change after
        // this read fails the move itself (RemoveFromVersionId no longer holds AWSCURRENT).
        if (expectedCurrent !== undefined && currentText !== expectedCurrent)
          throw new Error(
            `rotation ${token}: the current key document changed after finishSecret checked this rotation's plan; nothing was promoted`,
          );
        // The same document (a rotation that only stages): the functions have had it since the current one became current;
        // counting from this move would restart the wait of every rotation run again before its wait was over, for ever.
        const same = current !== undefined && sameKeys(currentText, await textOf(token)) ? await sinceOf(described, current) : undefined;
        // Otherwise, ahead of the move, the latest time it can happen: if the tag after it fails, this one is never earlier than the move.
        await tag(same ?? Math.ceil(now() / 1000) + PROMOTION_WITHIN_SECONDS);
        await client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: secretId,
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: token,
            ...(current ? { RemoveFromVersionId: current } : {}),
          }),
        );
        if (same !== undefined) return;
      }
      // Taken after the move (or, on a repeated finish that finds no marker, later still): never before the promotion.
      if (current !== token || markerOf(described.Tags)?.versionId !== token) await tag(Math.ceil(now() / 1000));
    },
    // A label removed from one version (no MoveToVersionId): the version keeps its value, labelled nothing, and Secrets
    // Manager may start the next rotation (AWSPENDING attached to no version).
    withdraw: async (token) => {
      await client.send(
        new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }),
      );
    },
    currentSince: async () => {
      const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      const current = versionWith(described.VersionIdsToStages, 'AWSCURRENT');
      return current ? sinceOf(described, current) : undefined;
    },
  };
};
