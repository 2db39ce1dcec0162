import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRotationHandler, RotationRefused, type RotatedSource, type RotationEvent } from '../../../core/secrets/rotation-function.js';
import { GITHUB_SWITCH_SECONDS, promotionWindowSeconds } from '../../../core/secrets/rotation.js';
import { CURRENT_SINCE_TAG } from '../../../core/secrets/secrets-manager-store.js';
import { fakeSecretsManager } from '../../helpers/fake-secrets-manager.js';
import { startGitHubStandIn, type GitHubStandIn } from '../../helpers/github-stand-in.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Hookwarden-prod/gh/keys-AbCdEf';
const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-token-XyZ123';
const TOKEN = 'ghp_token_of_the_rotation_function';
const T0 = 1_900_000_000_000;
const CACHE = 300;

type Doc = { keys: Array<{ id?: string; secret: string; createdAt?: number; next?: boolean; notAfter?: number }> };

describe("the rotation function: Secrets Manager's four steps against a Secrets Manager double", () => {
  let github: GitHubStandIn;
  let receiver: Server;
  let sm: ReturnType<typeof fakeSecretsManager>;
  let clock = T0;
  const current = (): Doc => JSON.parse(sm.version('AWSCURRENT')?.[1].text ?? '{}') as Doc;

  beforeAll(async () => {
    github = await startGitHubStandIn(TOKEN);
    // The pipeline as GitHub's ping sees it: accepts a signature made with any key of the current document.
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const signature = request.headers['x-hub-signature-256'];
        const ok = current().keys.some((k) => `sha256=${createHmac('sha256', k.secret).update(body).digest('hex')}` === signature);
        response.writeHead(ok ? 202 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    github.hooks.set('repos/acme/shop/hooks/42', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/gh` });
  });
  afterAll(async () => {
    await github.close();
    await new Promise((resolve) => receiver.close(resolve));
  });
  afterEach(() => sm.mock.restore());

  const sources: RotatedSource[] = [
    {
      source: 'gh',
      secretName: 'Hookwarden-prod/gh/keys',
      scheme: 'github',
      mode: 'github',
      overlapSeconds: 3600,
      github: { repository: 'acme/shop', hookId: 42 },
      tokenSecretArn: TOKEN_ARN,
    },
  ];
  /**
   * The secret as the stack deploys it (generated top-level "secret"), rotation enabled, plus the token secret.
   * Its document has been current for a day, made so by an earlier rotation's finishSecret (which recorded when).
   */
  const deploy = (document: unknown) => {
    const dayAgo = clock - 86_400_000;
    sm = fakeSecretsManager(ARN, JSON.stringify(document), () => clock, dayAgo);
    sm.tags.set(CURRENT_SINCE_TAG, `v-initial@${dayAgo / 1000}`);
    sm.mock.on(GetSecretValueCommand, { SecretId: TOKEN_ARN }).resolves({ SecretString: JSON.stringify({ token: TOKEN }) });
    return createRotationHandler({
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
      sources,
      cacheSeconds: CACHE,
      githubApiUrl: github.url,
      now: () => clock,
    });
  };
  const run = async (
    rotate: ReturnType<typeof deploy>,
    token: string,
    steps: ReadonlyArray<RotationEvent['Step']> = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'],
  ) => {
    if (steps[0] === 'createSecret') sm.startRotation(token);
    for (const Step of steps) await rotate({ Step, SecretId: ARN, ClientRequestToken: token });
  };

  it('first rotation: stages a key (GitHub untouched); a later one switches GitHub to it through PATCH and a ping, then makes it current', async () => {
    const rotate = deploy({ keys: [], secret: 'GeneratedAtDeploy0123456789abcdef' });
    // RotateSecret labels the token's version AWSPENDING without a value: createSecret writes it, the other steps find it.
    sm.startRotation('v1');
    await rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v1' });
    expect(sm.version('AWSPENDING')?.[0]).toBe('v1');
    await run(rotate, 'v1', ['setSecret', 'testSecret', 'finishSecret']);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    const staged = current();
    expect(staged.keys.map((k) => [k.secret === 'GeneratedAtDeploy0123456789abcdef', k.next ?? false])).toEqual([
      [true, false],
      [false, true],
    ]);

    clock += (2 * CACHE + 1) * 1000;
    await run(rotate, 'v2');
    const next = staged.keys[1]?.secret as string;
    expect(github.requests.filter((r) => r.method === 'PATCH')).toEqual([
      { method: 'PATCH', path: '/repos/acme/shop/hooks/42/config', body: { secret: next } },
    ]);
    expect(github.deliveries.get('repos/acme/shop/hooks/42')?.[0]).toMatchObject({ event: 'ping', status_code: 202 });
    const after = current();
    expect(after.keys[0]?.secret).toBe(next);
    expect(after.keys[1]?.next).toBe(true);
    expect(after.keys[2]).toMatchObject({
      secret: 'GeneratedAtDeploy0123456789abcdef',
      notAfter: Math.floor(clock / 1000) + 3600 + promotionWindowSeconds(3600),
    });
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v2');
    expect(sm.version('AWSPREVIOUS')?.[0]).toBe('v1');
  });

  it('is idempotent per step: a retried createSecret keeps its pending document, a retried finishSecret changes nothing', async () => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    sm.startRotation('v9');
    await rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v9' });
    const pending = sm.version('AWSPENDING')?.[1].text;
    await rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v9' });
    expect(sm.version('AWSPENDING')?.[1].text).toBe(pending);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    await run(rotate, 'v9', ['setSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(current().keys[0]?.id).toBe('k-2');
    // Retried after it succeeded: the version is current, nothing is moved again.
    expect(await rotate({ Step: 'finishSecret', SecretId: ARN, ClientRequestToken: 'v9' })).toBe('already current');
    expect(sm.mock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
  });

  it('records when the version became current on a finishSecret retried after the label moved but before the record', async () => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    await run(rotate, 'v8', ['createSecret', 'setSecret', 'testSecret']);
    // The first finishSecret moved the label, then failed before recording the time; Secrets Manager retries it.
    await sm.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: ARN,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: 'v8',
        RemoveFromVersionId: 'v-initial',
      }),
    );
    clock += 1000;
    expect(await rotate({ Step: 'finishSecret', SecretId: ARN, ClientRequestToken: 'v8' })).toBe('already current');
    expect(sm.tags.get(CURRENT_SINCE_TAG)).toBe(`v8@${clock / 1000}`);
  });

  it('fails testSecret when the ping signed with the new key is refused, and leaves the current version alone', async () => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    const before = sm.version('AWSCURRENT')?.[1].text;
    await run(rotate, 'v5', ['createSecret', 'setSecret']);
    // The hook now signs with a key no function has (someone changed it by hand).
    github.hooks.set('repos/acme/shop/hooks/42', {
      ...(github.hooks.get('repos/acme/shop/hooks/42') as { url: string }),
      secret: 'SomethingElse0123456789abcdefghij',
    });
    await expect(rotate({ Step: 'testSecret', SecretId: ARN, ClientRequestToken: 'v5' })).rejects.toThrow(
      /the ping signed with the new secret was answered 401, not 2xx/,
    );
    expect(sm.version('AWSCURRENT')?.[1].text).toBe(before);
  });

  // A key document edited by hand: a staged key the functions skip (too short, or not a secret at all) or refuse
  // later (an expiry, which a promoted key keeps). Switched to it, GitHub signed every delivery with a key no function
  // accepted, and GitHub does not retry.
  it.each([
    [
      'too short for the scheme',
      { secret: 'Sh0rtKey' },
      /the staged key k-2 has 8 bytes of key material; at least 16 are needed, so the functions skip it/,
    ],
    [
      'a signature, not a secret',
      { secret: `sha256=${'ab'.repeat(32)}` },
      /the staged key k-2 is a signature .*, so the functions skip it/,
    ],
    ['with an expiry', { secret: 'StagedKey0123456789abcdefghijklm', notAfter: T0 / 1000 + 7200 }, /the staged key k-2 expires at 2030-/],
  ])('never switches GitHub to a staged key %s: createSecret fails, naming the key, never its value', async (_, staged, message) => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', createdAt: 1, next: true, ...staged },
      ],
    });
    const patches = github.requests.filter((r) => r.method === 'PATCH').length;
    sm.startRotation('v6');
    const failure = await rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v6' }).catch(
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).toMatch(/the provider was not switched and nothing was written/);
    expect((failure as Error).message).not.toContain(staged.secret);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    // Withdrawn: a retried step of it is refused, and nothing is switched.
    expect((failure as Error).message).toMatch(/this rotation was withdrawn/);
    await expect(rotate({ Step: 'setSecret', SecretId: ARN, ClientRequestToken: 'v6' })).rejects.toThrow(/is not set as AWSPENDING/);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(patches);
  });

  // The emergency stop of README's "Incident containment", and a document whose every key expired: both accept no
  // delivery. Before, createSecret failed on the first (leaving the version AWSPENDING without a value: RotateSecret then
  // refused every new rotation, the one after the operator's fix included, as "a previous rotation isn't complete"), and
  // planned from the second: a fresh staged key, which every function accepts, switched to by the next rotation.
  it.each([
    [
      'emptied ({"keys":[]}, the emergency stop)',
      { keys: [] },
      /the current key document lists no key \(\{"keys":\[\]\}, an emergency stop\)/,
    ],
    [
      'whose every key is past its notAfter',
      { keys: [{ id: 'k-1', secret: 'RetiredKey0123456789abcdefghijk', createdAt: 1, notAfter: T0 / 1000 - 60 }] },
      /every key of the current key document is past its notAfter/,
    ],
    ['that is not JSON', 'not a key document', /the current key document cannot be read \(secret is not a JSON document/],
  ])(
    'a scheduled rotation of a document %s makes no key: createSecret withdraws it, and the rotation after the fix works',
    async (_, document, why) => {
      const rotate = deploy({ keys: [] });
      await sm.client.send(
        new PutSecretValueCommand({
          SecretId: ARN,
          SecretString: typeof document === 'string' ? document : JSON.stringify(document),
          ClientRequestToken: 'v-stop',
        }),
      );
      const stopped = sm.version('AWSCURRENT')?.[1].text;
      const patches = github.requests.filter((r) => r.method === 'PATCH').length;
      sm.startRotation('v1');
      const failure = await rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v1' }).catch(
        (error: unknown) => error as Error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(why);
      expect((failure as Error).message).toMatch(/nothing was written.*; this rotation was withdrawn/);
      expect((failure as Error).message).not.toMatch(/RetiredKey/);
      expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      // Nothing pending, nothing current changed, GitHub untouched; Secrets Manager's retries of v1 are refused.
      expect(sm.versions.get('v1')?.stages).toEqual([]);
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)
        await expect(rotate({ Step, SecretId: ARN, ClientRequestToken: 'v1' })).rejects.toThrow(/is not set as AWSPENDING/);
      expect(sm.version('AWSCURRENT')?.[1].text).toBe(stopped);
      expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(patches);

      // The operator puts a new key in by hand (and gives it to the hook); the next scheduled rotation starts and stages.
      const fixed = JSON.stringify({ keys: [{ id: 'k-hand', secret: 'OperatorsNewKey0123456789abcdef' }] });
      await sm.client.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: fixed, ClientRequestToken: 'v-fix' }));
      clock += 1000;
      await run(rotate, 'v2');
      expect(current().keys.map((k) => [k.id, k.next ?? false])).toEqual([
        ['k-hand', false],
        [expect.stringMatching(/^k-[0-9a-f]{8}$/), true],
      ]);
      expect(sm.version('AWSCURRENT')?.[0]).toBe('v2');
    },
  );

  it('keeps a rotation whose createSecret failed on Secrets Manager itself pending: the retry of the same token plans and writes', async () => {
    deploy({ keys: [{ id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 }] });
    // The first read of the current document is throttled.
    let throttled = false;
    const client = {
      send: (command: unknown) => {
        if (!throttled && command instanceof GetSecretValueCommand && command.input.VersionStage === 'AWSCURRENT') {
          throttled = true;
          return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
        }
        return sm.client.send(command as GetSecretValueCommand);
      },
    } as unknown as SecretsManagerClient;
    const rotate = createRotationHandler({ client, sources, cacheSeconds: CACHE, githubApiUrl: github.url, now: () => clock });
    sm.startRotation('v1');
    await expect(rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v1' })).rejects.toThrow(/Rate exceeded/);
    // Not a problem of the document: left for Secrets Manager's retry, which finds it pending.
    expect(sm.versions.get('v1')?.stages).toEqual(['AWSPENDING']);
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)
      await rotate({ Step, SecretId: ARN, ClientRequestToken: 'v1' });
    expect(current().keys.map((k) => k.id)).toEqual(['k-1', expect.stringMatching(/^k-/)]);
  });

  it.each([Number.NaN, 0])(
    'refuses a key cache period of %s, which counted a staged key written just now as ready',
    async (cacheSeconds) => {
      deploy({
        keys: [
          { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: clock / 1000 - 86_400 },
          { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: clock / 1000, next: true },
        ],
      });
      const rotate = createRotationHandler({ client: sm.client, sources, cacheSeconds, githubApiUrl: github.url, now: () => clock });
      sm.startRotation('v4');
      await expect(rotate({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v4' })).rejects.toThrow(
        /the key cache period must be a positive number of seconds/,
      );
      expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    },
  );

  it.each([
    ['rotation disabled', { RotationEnabled: false, VersionIdsToStages: { v1: ['AWSPENDING'] } }, /does not have rotation enabled/],
    ['an unknown version', { RotationEnabled: true, VersionIdsToStages: { other: ['AWSCURRENT'] } }, /has no stage for rotation/],
    ['a version not pending', { RotationEnabled: true, VersionIdsToStages: { v1: ['AWSPREVIOUS'] } }, /is not set as AWSPENDING/],
  ])("refuses %s, as Secrets Manager's templates do", async (_, described, message) => {
    const rotate = deploy({ keys: [{ secret: 'CurrentKey0123456789abcdefghijkl' }] });
    sm.mock.on(DescribeSecretCommand).resolves(described);
    await expect(rotate({ Step: 'setSecret', SecretId: ARN, ClientRequestToken: 'v1' })).rejects.toThrow(RotationRefused);
    await expect(rotate({ Step: 'setSecret', SecretId: ARN, ClientRequestToken: 'v1' })).rejects.toThrow(message);
  });

  it.each([
    ['JSON that does not parse', '{"token": ghp_leakedTokenValue0123456789}'],
    ['a line break inside the token', JSON.stringify({ token: 'ghp_leakedTokenValue\r\nghp_0123456789' })],
    ['a line break inside the plain token', 'ghp_leakedTokenValue\nghp_0123456789'],
  ])('refuses a GitHub token secret holding %s, naming the secret and never the token', async (_, text) => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    sm.mock.on(GetSecretValueCommand, { SecretId: TOKEN_ARN }).resolves({ SecretString: text });
    await run(rotate, 'v7', ['createSecret']);
    const requests = github.requests.length;
    const failure = await rotate({ Step: 'setSecret', SecretId: ARN, ClientRequestToken: 'v7' }).catch((error: unknown) => error as Error);
    // The handler logs the error (message, stack, cause) and returns it to Secrets Manager.
    const told = `${String(failure)} ${(failure as Error).stack ?? ''} ${String((failure as Error).cause ?? '')}`;
    expect(told).toContain(TOKEN_ARN);
    expect(told).not.toMatch(/leaked|ghp_/);
    expect(github.requests).toHaveLength(requests);
  });

  it('refuses a secret of no source it rotates', async () => {
    const rotate = deploy({ keys: [{ secret: 'CurrentKey0123456789abcdefghijkl' }] });
    await expect(
      rotate({
        Step: 'createSecret',
        SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf',
        ClientRequestToken: 'v1',
      }),
    ).rejects.toThrow(/belongs to no source/);
  });

  // Secrets Manager retries a failed step with the same token, hours on, and createSecret then keeps the document planned
  // back then. Promoted, it retired the previous key at plan time + overlap: already past here, so a sender still signing
  // with it (a shared one reads the document itself) was refused at once.
  it('withdraws a switching rotation whose finishSecret comes past the promotion window, and the next one gives the whole overlap', async () => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    const before = sm.version('AWSCURRENT');
    await run(rotate, 'v3', ['createSecret', 'setSecret']);
    // testSecret failed for two hours (longer than the 1 h overlap); Secrets Manager's retry gets through now.
    clock += 7_200_000;
    await run(rotate, 'v3', ['testSecret']);
    const failure = await rotate({ Step: 'finishSecret', SecretId: ARN, ClientRequestToken: 'v3' }).catch(
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(
      /rotation v3: it planned at \S+ to switch the provider, and finishSecret runs more than 300 s after: the keys it retires would verify for less than the overlap after its promotion; its pending key document was withdrawn and nothing was promoted; if its setSecret ran, the provider signs with key k-2, which the current document still accepts\. Rotate again/,
    );
    expect((failure as Error).message).not.toMatch(/CurrentKey|StagedKey/);
    // Nothing promoted; the version is no longer pending, so Secrets Manager's retries are refused and a new rotation may start.
    expect(sm.version('AWSCURRENT')).toEqual(before);
    expect(sm.versions.get('v3')?.stages).toEqual([]);
    await expect(rotate({ Step: 'finishSecret', SecretId: ARN, ClientRequestToken: 'v3' })).rejects.toThrow(/is not set as AWSPENDING/);
    // The next rotation plans from the current document: GitHub keeps k-2, and k-1 verifies for the whole overlap from now.
    await run(rotate, 'v4');
    expect(current().keys[0]?.id).toBe('k-2');
    expect(current().keys.find((k) => k.id === 'k-1')?.notAfter).toBeGreaterThanOrEqual(Math.floor(clock / 1000) + 3600);
    expect(github.requests.filter((r) => r.method === 'PATCH').slice(-1)[0]?.body).toEqual({ secret: 'StagedKey0123456789abcdefghijklm' });
  });

  // setSecret PATCHed GitHub, then failed before it answered (the Lambda timed out); Secrets Manager's retry came past
  // the window and withdrew the rotation saying "nothing was switched", though GitHub signed with the staged key.
  it('names the key GitHub may sign with when a retried setSecret is withdrawn after an earlier attempt switched it', async () => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    await run(rotate, 'v3', ['createSecret', 'setSecret']);
    expect(github.hooks.get('repos/acme/shop/hooks/42')?.secret).toBe('StagedKey0123456789abcdefghijklm');
    clock += 7_200_000;
    const failure = await rotate({ Step: 'setSecret', SecretId: ARN, ClientRequestToken: 'v3' }).catch((error: unknown) => error as Error);
    expect((failure as Error).message).toMatch(
      /its pending key document was withdrawn and nothing was switched by this attempt or promoted; if an earlier attempt of this setSecret ran, the provider signs with key k-2, which the current document still accepts\./,
    );
    expect((failure as Error).message).not.toMatch(/Key0123456789/);
  });

  it('promotes a switching rotation within the promotion window, its old key valid for at least the overlap after the promotion', async () => {
    const rotate = deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    await run(rotate, 'v3', ['createSecret', 'setSecret', 'testSecret']);
    clock += 299_000;
    await run(rotate, 'v3', ['finishSecret']);
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v3');
    expect(current().keys.find((k) => k.id === 'k-1')?.notAfter).toBeGreaterThanOrEqual(Math.floor(clock / 1000) + 3600);
  });

  // finishSecret checked the plan against the current document, then promote read the current version again and moved
  // AWSCURRENT off whatever it found: an edit landing in between (a leaked key removed) was undone by the promotion.
  it.each([
    ['after the check, before the promotion read the current version', DescribeSecretCommand],
    ['after the promotion read the current version, before the label moved', TagResourceCommand],
  ] as const)('never undoes an edit that lands %s: the rotation is withdrawn', async (_, before) => {
    deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
        { id: 'k-0', secret: 'LeakedKey0123456789abcdefghijklm', createdAt: 1, notAfter: clock / 1000 + 1800 },
      ],
    });
    const plain = createRotationHandler({ client: sm.client, sources, cacheSeconds: CACHE, githubApiUrl: github.url, now: () => clock });
    await run(plain, 'v3', ['createSecret', 'setSecret', 'testSecret']);
    const edited = JSON.stringify({ keys: current().keys.filter((k) => k.id !== 'k-0') });
    // The operator's PutSecretValue lands just before finishSecret's promotion sends `before` (the handler's own
    // DescribeSecret comes first, so the second one is the promotion's).
    let seen = 0;
    const client = {
      send: async (command: unknown) => {
        if (command instanceof before && ++seen === (before === DescribeSecretCommand ? 2 : 1))
          await sm.client.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: edited, ClientRequestToken: 'v-edit' }));
        return sm.client.send(command as DescribeSecretCommand);
      },
    } as unknown as SecretsManagerClient;
    const rotate = createRotationHandler({ client, sources, cacheSeconds: CACHE, githubApiUrl: github.url, now: () => clock });
    const failure = await rotate({ Step: 'finishSecret', SecretId: ARN, ClientRequestToken: 'v3' }).catch(
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(
      /rotation v3: the current key document changed after this rotation planned from it .*its pending key document was withdrawn/,
    );
    expect((failure as Error).message).not.toMatch(/Key0123456789/);
    expect(sm.version('AWSCURRENT')?.[1].text).toBe(edited);
    expect(sm.versions.get('v3')?.stages).toEqual([]);
  });

  // The shortest overlap the configuration allows (1 minute) had a promotion window of 15 s, and GitHub's ping may take
  // 30 s to be answered: every rotation that switched GitHub was withdrawn at finishSecret, after the switch.
  it("promotes a github rotation with a 1-minute overlap whose ping took 40 s: the window covers GitHub's switch and ping", async () => {
    deploy({
      keys: [
        { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
        { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
      ],
    });
    const short = sources.map((s) => ({ ...s, overlapSeconds: 60 }));
    const rotate = createRotationHandler({
      client: sm.client,
      sources: short,
      cacheSeconds: CACHE,
      githubApiUrl: github.url,
      now: () => clock,
    });
    const plannedAt = Math.floor(clock / 1000);
    await run(rotate, 'v3', ['createSecret', 'setSecret', 'testSecret']);
    clock += 40_000;
    await run(rotate, 'v3', ['finishSecret']);
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v3');
    const retired = current().keys.find((k) => k.id === 'k-1')?.notAfter as number;
    expect(retired).toBeGreaterThanOrEqual(Math.floor(clock / 1000) + 60);
    expect(retired).toBe(plannedAt + 60 + GITHUB_SWITCH_SECONDS);
  });

  // An operator edited AWSCURRENT while the rotation waited for a retry (here: removed a leaked previous key). Promoted, the
  // document planned before the edit brought the leaked key back for the rest of its overlap.
  it.each(['setSecret', 'finishSecret'] as const)(
    'withdraws a rotation when the current document changed after its plan, detected at %s, and never undoes the edit',
    async (step) => {
      const rotate = deploy({
        keys: [
          { id: 'k-1', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: 1 },
          { id: 'k-2', secret: 'StagedKey0123456789abcdefghijklm', createdAt: 1, next: true },
          { id: 'k-0', secret: 'LeakedKey0123456789abcdefghijklm', createdAt: 1, notAfter: clock / 1000 + 1800 },
        ],
      });
      const patches = () => github.requests.filter((r) => r.method === 'PATCH').length;
      const patchesBefore = patches();
      await run(rotate, 'v3', step === 'setSecret' ? ['createSecret'] : ['createSecret', 'setSecret', 'testSecret']);
      const edited = JSON.stringify({ keys: current().keys.filter((k) => k.id !== 'k-0') });
      await sm.client.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: edited, ClientRequestToken: 'v-edit' }));
      clock += 1000;
      const failure = await rotate({ Step: step, SecretId: ARN, ClientRequestToken: 'v3' }).catch((error: unknown) => error as Error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(
        /rotation v3: the current key document changed after this rotation planned from it at \S+ \(edited, or made current some other way\): promoting the planned document would undo that change; its pending key document was withdrawn/,
      );
      expect((failure as Error).message).not.toMatch(/Key0123456789/);
      if (step === 'setSecret') expect(patches()).toBe(patchesBefore);
      expect(sm.version('AWSCURRENT')?.[1].text).toBe(edited);
      expect(sm.versions.get('v3')?.stages).toEqual([]);
      // The next rotations plan from the edited document: the leaked key stays out. (A document made current by hand counts
      // from the secret's last change, so the first only stages, and the one a cache period later switches.)
      await run(rotate, 'v4');
      expect(current().keys.map((k) => k.id)).toEqual(['k-1', 'k-2']);
      clock += (2 * CACHE + 1) * 1000;
      await run(rotate, 'v5');
      expect(current().keys.map((k) => k.id)).toEqual(['k-2', expect.stringMatching(/^k-/), 'k-1']);
    },
  );
});
