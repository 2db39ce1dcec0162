import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeSecretCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { planRotation, serializeKeyDocument, type KeyDocument } from '../../../core/secrets/key-document.js';
import { fileKeyStore } from '../../../core/secrets/key-files.js';
import { rotationSteps, type KeyDocumentStore } from '../../../core/secrets/rotation.js';
import { CURRENT_SINCE_TAG, secretsManagerKeyStore } from '../../../core/secrets/secrets-manager-store.js';
import { fakeSecretsManager } from '../../helpers/fake-secrets-manager.js';
import { emptyDir } from '../../helpers/harness.js';

const SECRET_ID = 'hookwarden-test/gh/keys';
const NOW = 1_900_000_000;
const CACHE = 300;
// Staged three hours ago: old enough by its createdAt alone.
const DOCUMENT: KeyDocument = {
  keys: [
    { id: 'k-current', secret: 'CurrentKey0123456789abcdefghijkl', createdAt: NOW - 86_400 },
    { id: 'k-staged', secret: 'StagedKey0123456789abcdefghijklm', createdAt: NOW - 3 * 3600, next: true },
  ],
};
const plan = (currentSinceSeconds?: number) =>
  planRotation(DOCUMENT, {
    nowSeconds: NOW,
    cacheSeconds: CACHE,
    overlapSeconds: 3600,
    generate: () => 'NextKey0123456789abcdefghijklmno',
    ...(currentSinceSeconds === undefined ? {} : { currentSinceSeconds }),
  });

describe('planRotation: a staged key counts from when its document became current', () => {
  it('switches to a staged key whose document has been current for the cache period and its margin', () => {
    expect(plan(NOW - CACHE - 60).switchTo?.id).toBe('k-staged');
  });

  it('only stages while the document holding the key has been current for less, whatever its createdAt', () => {
    const late = plan(NOW - 10);
    expect(late.switchTo).toBeUndefined();
    expect(late.staged?.id).toBe('k-staged');
    expect(late.waitSeconds).toBe(CACHE + 60 - 10);
  });
});

describe('rotationSteps: a store that cannot tell when its document became current', () => {
  it('counts it as current from now: the rotation only stages', async () => {
    let current = serializeKeyDocument(DOCUMENT);
    let pending: string | undefined;
    const store: KeyDocumentStore = {
      readCurrent: async () => current,
      readPending: async () => pending,
      writePending: async (_token, text) => {
        pending = text;
      },
      promote: async () => {
        current = pending as string;
      },
      withdraw: async () => {
        pending = undefined;
      },
      currentSince: async () => undefined,
    };
    const switched: string[] = [];
    const steps = rotationSteps({
      store,
      provider: { name: 'test', set: async (secret) => void switched.push(secret), test: async () => {} },
      generate: () => 'NextKey0123456789abcdefghijklmno',
      cacheSeconds: CACHE,
      overlapSeconds: 3600,
      now: () => NOW * 1000,
    });
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await steps[step]('t');
    expect(switched).toEqual([]);
  });
});

// A pending document that differs from the current one (its staged key dropped).
const CHANGED = serializeKeyDocument({ keys: DOCUMENT.keys.slice(0, 1) });

describe('secretsManagerKeyStore: when the current version became current', () => {
  let sm: ReturnType<typeof fakeSecretsManager>;
  afterEach(() => sm.mock.restore());
  let clock = NOW * 1000;
  const setup = () => {
    sm = fakeSecretsManager(SECRET_ID, serializeKeyDocument(DOCUMENT), () => clock, (NOW - 86_400) * 1000);
    return secretsManagerKeyStore(sm.client, SECRET_ID, () => clock);
  };

  it('records the promotion in a tag (version and a time taken after the label moved) and answers it', async () => {
    const store = setup();
    sm.startRotation('v2');
    await store.writePending('v2', CHANGED);
    clock += 3 * 3600 * 1000;
    await store.promote('v2');
    expect(sm.tags.get(CURRENT_SINCE_TAG)).toBe(`v2@${clock / 1000}`);
    clock += 60_000;
    expect(await store.currentSince()).toBe(clock / 1000 - 60);
    // A repeated finish finds the label and the tag in place: nothing is written again (the bound ahead of the move, the time after it).
    await store.promote('v2');
    expect(sm.mock.commandCalls(TagResourceCommand)).toHaveLength(2);
  });

  it('never answers earlier than the move when the tag after it failed, even if the move did not change LastChangedDate', async () => {
    const store = setup();
    sm.startRotation('v2');
    await store.writePending('v2', CHANGED);
    const written = clock / 1000;
    clock += 3 * 3600 * 1000;
    const moved = clock / 1000;
    // Throttled once the label has moved; finishSecret fails, and no retry comes before the next rotation.
    sm.mock.on(TagResourceCommand).callsFake((input: { Tags?: Array<{ Key?: string; Value?: string }> }) => {
      if (sm.version('AWSCURRENT')?.[0] === 'v2') throw new Error('ThrottlingException: rate exceeded');
      for (const tag of input.Tags ?? []) sm.tags.set(tag.Key as string, tag.Value as string);
      return {};
    });
    await expect(store.promote('v2')).rejects.toThrow('ThrottlingException');
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v2');
    // Secrets Manager does not say that a label move counts as a change: LastChangedDate as the pending write left it.
    const described = await sm.client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }));
    sm.mock.on(DescribeSecretCommand).resolves({ ...described, LastChangedDate: new Date(written * 1000) });
    clock += 10_000;
    expect(await store.currentSince()).toBeGreaterThanOrEqual(moved);
  });

  it('writes the tag on a repeated finish that finds the label moved but no tag for the version (later: only delays)', async () => {
    const store = setup();
    sm.startRotation('v2');
    await store.writePending('v2', CHANGED);
    await store.promote('v2');
    sm.tags.set(CURRENT_SINCE_TAG, 'v-initial@1');
    clock += 1000;
    await store.promote('v2');
    expect(sm.tags.get(CURRENT_SINCE_TAG)).toBe(`v2@${clock / 1000}`);
  });

  // Run again before its wait was over, a rotation only stages, with the same document: counting from its promotion
  // restarted the wait of the next one, so rotations run at shorter intervals than the wait never switched.
  it('keeps the time of the current document when a rotation that only stages promotes the same document', async () => {
    const store = setup();
    sm.startRotation('v2');
    await store.writePending('v2', CHANGED);
    await store.promote('v2');
    const since = clock / 1000;
    clock += 60_000;
    sm.startRotation('v3');
    await store.writePending('v3', CHANGED);
    await store.promote('v3');
    expect(sm.version('AWSCURRENT')?.[0]).toBe('v3');
    expect(sm.tags.get(CURRENT_SINCE_TAG)).toBe(`v3@${since}`);
    clock += 60_000;
    expect(await store.currentSince()).toBe(since);
  });

  it('without a tag naming the current version, answers the latest of its CreatedDate, LastChangedDate and LastRotatedDate', async () => {
    const store = setup();
    // The deployed version, not promoted by a rotation: its creation, and the secret's last change (the deployment).
    expect(await store.currentSince()).toBe(NOW - 86_400);
    sm.tags.set(CURRENT_SINCE_TAG, 'v-old@1');
    const described = await sm.client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }));
    sm.mock
      .on(DescribeSecretCommand)
      .resolves({ ...described, LastChangedDate: new Date((NOW - 600) * 1000), LastRotatedDate: new Date((NOW - 30) * 1000) });
    expect(await store.currentSince()).toBe(NOW - 30);
  });

  it('answers nothing (counted as now) when Secrets Manager gives no LastChangedDate and no tag names the version', async () => {
    const store = setup();
    const { LastChangedDate: _dropped, ...described } = await sm.client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }));
    sm.mock.on(DescribeSecretCommand).resolves(described);
    expect(await store.currentSince()).toBeUndefined();
  });
});

describe('fileKeyStore: the local document became current when its file was written', () => {
  it('answers the file time, rounded up', async () => {
    const path = join(emptyDir(), 'src.json');
    const store = fileKeyStore(path);
    expect(await store.currentSince()).toBeUndefined();
    await store.writePending('t', serializeKeyDocument(DOCUMENT));
    await store.promote('t');
    utimesSync(path, NOW - 0.5, NOW - 0.5);
    expect(await store.currentSince()).toBe(NOW);
  });

  // Run again before its wait was over, a rotation only stages, with the same document: rewriting the file restarted the
  // wait, so rotate run every few seconds never switched (test/e2e/rotation-github.test.ts).
  it('keeps the file time when a rotation that only stages promotes the same document', async () => {
    const path = join(emptyDir(), 'src.json');
    const store = fileKeyStore(path);
    await store.writePending('t1', serializeKeyDocument(DOCUMENT));
    await store.promote('t1');
    utimesSync(path, NOW - 0.5, NOW - 0.5);
    await store.writePending('t2', serializeKeyDocument(DOCUMENT));
    await store.promote('t2');
    expect(await store.currentSince()).toBe(NOW);
    expect(await store.readPending('t2')).toBeUndefined();
    // A document that changes is written, and counts from then.
    const before = Math.floor(Date.now() / 1000);
    await store.writePending('t3', serializeKeyDocument({ keys: DOCUMENT.keys.slice(1) }));
    await store.promote('t3');
    expect(await store.currentSince()).not.toBe(NOW);
    expect(await store.currentSince()).toBeGreaterThanOrEqual(before);
  });
});
