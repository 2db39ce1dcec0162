import { afterAll, describe, expect, it } from 'vitest';
import { generateKey, stageMarginSeconds } from '../../../core/secrets/key-document.js';
import { promotionWindowSeconds, rotationSteps, type ProviderSwitch } from '../../../core/secrets/rotation.js';
import { secretsManagerKeyStore } from '../../../core/secrets/secrets-manager-store.js';
import { fakeSecretsManager } from '../../helpers/fake-secrets-manager.js';
import { githubContainers } from '../../helpers/github-containers.js';

const SECRET_ID = 'hookwarden-test/github/keys';
/** Shortened from the default 300 s, as the issue asks; the design must hold for any period. */
const CACHE_SECONDS = 30;
const OVERLAP_SECONDS = 600;
const T0 = 1_900_000_000_000;
const INITIAL = 'InitialDeployKey0123456789abcdef';

describe('rotation without a rejected delivery (github mode, key cache shortened to 30 s)', () => {
  let clock = T0;
  const now = () => clock;
  const sm = fakeSecretsManager(SECRET_ID, JSON.stringify({ keys: [], secret: INITIAL }), now);
  afterAll(() => sm.mock.restore());
  // Three warm function containers, each with its own cache, first read at different moments.
  const { functions, accepts } = githubContainers({ client: sm.client, secretId: SECRET_ID, cacheSeconds: CACHE_SECONDS, now });

  // GitHub as the rotation sees it: it signs every delivery with the last secret set (GitHub never retries a refused delivery).
  let githubKey = INITIAL;
  const counts = {
    providerSigned: 0,
    providerRejected: 0,
    oldAccepted: 0,
    oldRefused: 0,
    newAccepted: 0,
    newBeforeSwitch: 0,
    newBeforeSwitchRefused: 0,
  };
  const provider: ProviderSwitch = {
    name: 'GitHub hook (simulated)',
    set: async (secret) => {
      githubKey = secret;
    },
    test: async () => {
      for (const fn of functions) expect(await accepts(fn, githubKey)).toBe(true);
    },
  };
  const steps = rotationSteps({
    store: secretsManagerKeyStore(sm.client, SECRET_ID, now),
    provider,
    generate: () => generateKey('github'),
    cacheSeconds: CACHE_SECONDS,
    overlapSeconds: OVERLAP_SECONDS,
    now,
  });

  const oldKey = INITIAL;
  let newKey: string | undefined;
  let oldNotAfter = Number.POSITIVE_INFINITY;
  /** One delivery per function per key: the provider's, the old key's, and the new key's. */
  const deliver = async (): Promise<void> => {
    for (const fn of functions) {
      counts.providerSigned++;
      if (!(await accepts(fn, githubKey))) counts.providerRejected++;
      const oldOk = await accepts(fn, oldKey);
      if (oldOk) counts.oldAccepted++;
      else counts.oldRefused++;
      // The old key is refused exactly when its overlap has ended, never before.
      expect(oldOk).toBe(clock / 1000 < oldNotAfter);
      if (newKey !== undefined) {
        const newOk = await accepts(fn, newKey);
        if (githubKey === newKey) {
          expect(newOk).toBe(true);
          counts.newAccepted++;
        } else {
          counts.newBeforeSwitch++;
          if (!newOk) counts.newBeforeSwitchRefused++;
        }
      }
    }
  };
  const advance = async (seconds: number): Promise<void> => {
    for (let s = 0; s < seconds; s += 5) {
      clock += 5_000;
      await deliver();
    }
  };
  const staged = () =>
    JSON.parse(sm.version('AWSCURRENT')?.[1].text ?? '{}').keys?.find((k: { next?: boolean }) => k.next)?.secret as string | undefined;

  it('switches GitHub only to a key every function has accepted for a cache period; the old key verifies until the overlap ends', async () => {
    // Stagger the containers' first reads across a cache period.
    for (const fn of functions) {
      await fn.current();
      await advance(10);
    }
    // Rotation 1 (RotateImmediately when the schedule is created): stages the next key, switches nothing.
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await steps[step]('token-1');
      await advance(5);
    }
    expect(githubKey).toBe(INITIAL);
    newKey = staged();
    expect(newKey).toBeDefined();
    // A rotation attempted too soon (inside the cache period) does not switch either: some function may not know the key yet.
    await steps.createSecret('token-early');
    await steps.setSecret('token-early');
    await steps.testSecret('token-early');
    await steps.finishSecret('token-early');
    expect(githubKey).toBe(INITIAL);
    await advance(CACHE_SECONDS + stageMarginSeconds(CACHE_SECONDS) + 10);

    // Rotation 2: the switch, with deliveries between every step, and createSecret and setSecret retried (Secrets Manager retries a failed step).
    await steps.createSecret('token-2');
    await advance(5);
    await steps.createSecret('token-2');
    await steps.setSecret('token-2');
    expect(githubKey).toBe(newKey);
    await advance(5);
    await steps.setSecret('token-2');
    await steps.testSecret('token-2');
    await advance(5);
    await steps.finishSecret('token-2');
    const current = JSON.parse(sm.version('AWSCURRENT')?.[1].text ?? '{}') as {
      keys: Array<{ secret: string; notAfter?: number; next?: boolean }>;
    };
    expect(current.keys[0]?.secret).toBe(newKey);
    expect(current.keys[1]?.next).toBe(true);
    oldNotAfter = current.keys.find((k) => k.secret === INITIAL)?.notAfter as number;
    // The overlap, and the window its promotion had, from the plan (15 s before): at least the overlap from the promotion.
    expect(oldNotAfter).toBe(Math.floor(clock / 1000) - 15 + OVERLAP_SECONDS + promotionWindowSeconds(OVERLAP_SECONDS));
    // Through the overlap and well past it.
    await advance(OVERLAP_SECONDS + promotionWindowSeconds(OVERLAP_SECONDS) + 2 * CACHE_SECONDS);

    expect(counts.providerRejected).toBe(0);
    expect(counts.oldRefused).toBeGreaterThan(0);
    expect(counts.newAccepted).toBeGreaterThan(0);
    // Reported in the issue note.
    process.stdout.write(`zero-rejection counts: ${JSON.stringify(counts)}\n`);
  });
});
