import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MANUAL_ROTATION_STAGE } from '../../cli/commands/rotate.js';
import { run } from '../../cli/program.js';
import { createDynamoDbClient } from '../../core/stores/dynamodb-client.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { answerStack, stackClients } from '../helpers/fake-stack.js';
import { fakeSecretsManager } from '../helpers/fake-secrets-manager.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/**
 * `rotate <source> --stack` for a `manual` source reads the secret's current key document, plans the new one and writes
 * it. Written as the new current version at once, a change landing between the read and the write (another operator
 * removing a leaked key, or rotating too) was undone without a word. Secrets Manager has no local server: its double
 * (test/helpers/fake-secrets-manager.ts) keeps versions and labels, and refuses to move AWSCURRENT off a version that
 * does not hold it, as Secrets Manager does.
 */
describe('rotate --stack for a manual source', () => {
  const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookwarden-default-AbCdEf';
  const OLD_KEY = 'current-key-of-the-source';
  const cfn = mockClient(CloudFormationClient);
  let sm: ReturnType<typeof fakeSecretsManager>;
  let lines: string[];

  beforeEach(() => {
    answerStack(cfn, 'Hookwarden-prod', [[outputKey('secretArn', 'default'), SECRET_ARN]]);
    sm = fakeSecretsManager(SECRET_ARN, JSON.stringify({ keys: [{ secret: OLD_KEY }] }));
  });
  afterEach(() => {
    sm.mock.restore();
    cfn.reset();
  });

  /** Runs `rotate default --stack Hookwarden-prod --secret-env NEW_KEY` (a github source), the Secrets Manager client as `secretsManager` gives it. */
  const rotate = async (secretsManager: () => SecretsManagerClient = () => sm.client): Promise<number> => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources: [{ name: 'default', scheme: 'github' }] }));
    lines = [];
    const capture = (chunk: unknown) => (lines.push(String(chunk)), true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      const aws = {
        ...stackClients({ dynamodb: () => createDynamoDbClient({ endpoint: 'http://127.0.0.1:9', region: 'local' }) }),
        secretsManager,
      };
      return await run(
        ['node', 'hookwarden', 'rotate', 'default', '--stack', 'Hookwarden-prod', '--secret-env', 'NEW_KEY'],
        { env: { NEW_KEY: TEST_SECRETS.github }, cwd, dataDir: emptyDir() },
        aws,
      );
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  };
  const currentKeys = (): string[] =>
    (JSON.parse(sm.version('AWSCURRENT')?.[1].text as string) as { keys: Array<{ secret: string }> }).keys.map((k) => k.secret);
  const labelled = (stage: string) => [...sm.versions].filter(([, v]) => v.stages.includes(stage)).map(([id]) => id);

  type Command = Parameters<SecretsManagerClient['send']>[0];
  /** A client whose every command goes to the double through `around`, which may act before or after it, or throw. */
  const through = (around: (command: Command, send: () => Promise<unknown>) => Promise<unknown>): SecretsManagerClient =>
    ({ send: (command: Command) => around(command, () => sm.client.send(command as never)) }) as unknown as SecretsManagerClient;
  /** The command's move of AWSCURRENT onto its new version. */
  const isMove = (command: Command): boolean =>
    command instanceof UpdateSecretVersionStageCommand && command.input.VersionStage === 'AWSCURRENT';

  /** A client that runs `meanwhile` once, right after the command's first read of the secret. */
  const interleaved = (meanwhile: () => Promise<unknown>): SecretsManagerClient => {
    let done = false;
    return through(async (command, send) => {
      const answer = await send();
      if (!done && command instanceof GetSecretValueCommand) {
        done = true;
        await meanwhile();
      }
      return answer;
    });
  };

  it('makes the new document current in place of the one it read, and leaves no label of its own', async () => {
    const code = await rotate();
    expect(code, lines.join('')).toBe(0);
    expect(currentKeys()).toEqual([TEST_SECRETS.github, OLD_KEY]);
    expect(labelled('AWSPREVIOUS')).toEqual(['v-initial']);
    expect(labelled(MANUAL_ROTATION_STAGE)).toEqual([]);
    // Moved off the version it read, by name: Secrets Manager refuses that move once another version is current.
    const moves = sm.mock.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input);
    expect(moves[0]).toMatchObject({ VersionStage: 'AWSCURRENT', RemoveFromVersionId: 'v-initial' });
  });

  it('changes nothing when another operator edited the secret after it was read (a leaked key removed), and says so', async () => {
    const edited = JSON.stringify({ keys: [{ secret: 'the-key-after-the-leaked-one-was-removed' }] });
    const code = await rotate(() =>
      interleaved(() =>
        sm.client.send(new PutSecretValueCommand({ SecretId: SECRET_ARN, ClientRequestToken: 'v-edit', SecretString: edited })),
      ),
    );
    expect(code).toBe(1);
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v-edit');
    expect(sm.version('AWSCURRENT')?.[1].text).toBe(edited);
    expect(labelled(MANUAL_ROTATION_STAGE)).toEqual([]);
    const said = lines.join('');
    expect(said).toMatch(/source default: the secret .* changed after this command read it .*nothing was changed/);
    expect(said).toContain('hookwarden keys default --stack');
    expect(said).not.toContain(TEST_SECRETS.github);
    expect(said).not.toContain('the-key-after');
  });

  it('changes nothing when another manual rotation of the source won the race', async () => {
    // The other run made its document current between this one's read and its move.
    const other = () =>
      sm.client.send(
        new PutSecretValueCommand({
          SecretId: SECRET_ARN,
          ClientRequestToken: 'v-other',
          SecretString: JSON.stringify({ keys: [{ secret: 'the-other-runs-new-key-000' }, { secret: OLD_KEY, notAfter: 2_000_000_000 }] }),
        }),
      );
    expect(await rotate(() => interleaved(other))).toBe(1);
    expect(currentKeys()).toEqual(['the-other-runs-new-key-000', OLD_KEY]);
  });

  it('takes a move whose answer was lost, but which landed, as done', async () => {
    const lostAnswer = through(async (command, send) => {
      const answer = await send();
      if (isMove(command)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return answer;
    });
    expect(await rotate(() => lostAnswer)).toBe(0);
    expect(currentKeys()).toEqual([TEST_SECRETS.github, OLD_KEY]);
    expect(labelled(MANUAL_ROTATION_STAGE)).toEqual([]);
  });

  it('passes on a failure that is not the race (denied), with nothing made current and its label taken off', async () => {
    const denied = through(async (command, send) => {
      if (isMove(command))
        throw Object.assign(new Error('User is not authorized to perform: secretsmanager:UpdateSecretVersionStage'), {
          name: 'AccessDeniedException',
        });
      return send();
    });
    expect(await rotate(() => denied)).toBe(1);
    expect(lines.join('')).toMatch(/not authorized to perform: secretsmanager:UpdateSecretVersionStage/);
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v-initial');
    expect(currentKeys()).toEqual([OLD_KEY]);
    expect(labelled(MANUAL_ROTATION_STAGE)).toEqual([]);
  });
});
