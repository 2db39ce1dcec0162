import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * One secret's versions and staging labels, behind aws-sdk-client-mock (Secrets
 * Manager has no local server): GetSecretValue by stage or version id,
 * a rotation's valueless AWSPENDING version (startRotation), PutSecretValue with a ClientRequestToken (idempotent for the same token and
 * value), DescribeSecret's VersionIdsToStages, UpdateSecretVersionStage moving
 * AWSCURRENT (the former current becomes AWSPREVIOUS; refused unless RemoveFromVersionId names the version holding the
 * label) or taking a label off a version (RemoveFromVersionId alone), as
 * Secrets Manager documents them.
 * Dates on the clock `now`: each version's CreatedDate, and the secret's
 * LastChangedDate, moved by every change (a new version, a label, a tag, a
 * rotation started: the most conservative reading of "modified in any way").
 * TagResource sets tags, which DescribeSecret returns. The initial version
 * (`v-initial`) was created, and the secret last changed, at `deployedAt`.
 */
export const fakeSecretsManager = (secretId: string, initial: string, now: () => number = Date.now, deployedAt: number = now()) => {
  const mock = mockClient(SecretsManagerClient);
  const versions = new Map<string, { text: string | undefined; stages: string[]; created: number }>([
    ['v-initial', { text: initial, stages: ['AWSCURRENT'], created: deployedAt }],
  ]);
  const tags = new Map<string, string>();
  let lastChanged = deployedAt;
  const changed = () => {
    lastChanged = now();
  };
  const notFound = (what: string) => new ResourceNotFoundException({ message: `Secrets Manager can't find ${what}`, $metadata: {} });
  const check = (id: string | undefined) => {
    if (id !== secretId) throw notFound(`the secret ${id}`);
  };
  mock.on(GetSecretValueCommand).callsFake((input: { SecretId?: string; VersionId?: string; VersionStage?: string }) => {
    check(input.SecretId);
    const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
    const found = [...versions].find(
      ([id, v]) =>
        v.text !== undefined &&
        (input.VersionId === undefined || id === input.VersionId) &&
        (stage === undefined || v.stages.includes(stage)),
    );
    if (!found) throw notFound(`the version ${input.VersionId ?? ''} ${stage ?? ''}`);
    return {
      ARN: secretId,
      VersionId: found[0],
      SecretString: found[1].text,
      VersionStages: found[1].stages,
      CreatedDate: new Date(found[1].created),
    };
  });
  mock
    .on(PutSecretValueCommand)
    .callsFake((input: { SecretId?: string; ClientRequestToken?: string; SecretString?: string; VersionStages?: string[] }) => {
      check(input.SecretId);
      const token = input.ClientRequestToken as string;
      const existing = versions.get(token);
      if (existing?.text !== undefined && existing.text !== input.SecretString)
        throw new Error('ResourceExistsException: a version with this token holds another value');
      const stages = input.VersionStages ?? ['AWSCURRENT'];
      for (const v of versions.values()) v.stages = v.stages.filter((s) => !stages.includes(s));
      versions.set(token, {
        text: input.SecretString as string,
        stages: [...new Set([...(existing?.stages ?? []), ...stages])],
        created: existing?.text !== undefined ? existing.created : now(),
      });
      changed();
      return { ARN: secretId, VersionId: token, VersionStages: stages };
    });
  mock.on(DescribeSecretCommand).callsFake((input: { SecretId?: string }) => {
    check(input.SecretId);
    return {
      ARN: secretId,
      RotationEnabled: true,
      VersionIdsToStages: Object.fromEntries([...versions].map(([id, v]) => [id, [...v.stages]])),
      LastChangedDate: new Date(lastChanged),
      ...(tags.size > 0 ? { Tags: [...tags].map(([Key, Value]) => ({ Key, Value })) } : {}),
    };
  });
  mock.on(TagResourceCommand).callsFake((input: { SecretId?: string; Tags?: Tag[] }) => {
    check(input.SecretId);
    for (const tag of input.Tags ?? []) tags.set(tag.Key as string, tag.Value as string);
    changed();
    return {};
  });
  mock
    .on(UpdateSecretVersionStageCommand)
    .callsFake((input: { SecretId?: string; VersionStage?: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
      check(input.SecretId);
      const from = input.RemoveFromVersionId ? versions.get(input.RemoveFromVersionId) : undefined;
      // RemoveFromVersionId alone takes the label off that version (it must hold it), moving it nowhere.
      if (input.MoveToVersionId === undefined) {
        if (!from?.stages.includes(input.VersionStage as string))
          throw new Error(`InvalidParameterException: the version ${input.RemoveFromVersionId} has no label ${input.VersionStage}`);
        from.stages = from.stages.filter((s) => s !== input.VersionStage);
        changed();
        return { ARN: secretId };
      }
      const target = versions.get(input.MoveToVersionId);
      if (!target) throw notFound(`the version ${input.MoveToVersionId}`);
      // A label attached to another version moves only off the one RemoveFromVersionId names.
      const holder = [...versions].find(([id, v]) => id !== input.MoveToVersionId && v.stages.includes(input.VersionStage as string));
      if (holder && holder[0] !== input.RemoveFromVersionId)
        throw Object.assign(
          new Error(
            `the label ${input.VersionStage} is attached to version ${holder[0]}, not ${input.RemoveFromVersionId ?? 'none named'}`,
          ),
          { name: 'InvalidParameterException' },
        );
      if (input.VersionStage === 'AWSCURRENT') {
        for (const v of versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
        if (from) from.stages = [...from.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
      } else if (from) from.stages = from.stages.filter((s) => s !== input.VersionStage);
      target.stages = [...new Set([...target.stages, input.VersionStage as string])];
      changed();
      return { ARN: secretId };
    });
  return {
    mock,
    /**
     * What RotateSecret does before invoking the function: a version named by the token, labelled AWSPENDING, without a
     * value yet. Refused, as RotateSecret refuses, while AWSPENDING is on a version other than AWSCURRENT's (a rotation
     * that failed without withdrawing: Secrets Manager takes it as still in progress).
     */
    startRotation: (token: string) => {
      const pending = [...versions].find(([, v]) => v.stages.includes('AWSPENDING'));
      if (pending && !pending[1].stages.includes('AWSCURRENT'))
        throw new Error(`InvalidRequestException: A previous rotation isn't complete (version ${pending[0]} is AWSPENDING)`);
      for (const v of versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPENDING');
      versions.set(token, { text: undefined, stages: ['AWSPENDING'], created: now() });
      changed();
    },
    client: new SecretsManagerClient({ region: 'us-east-1' }),
    /** The version holding a stage, and its text. */
    version: (stage: string) => [...versions].find(([, v]) => v.stages.includes(stage)),
    versions,
    tags,
  };
};
