import { afterAll, describe, expect, it } from 'vitest';
import { generateKey, stageMarginSeconds } from '../../../core/secrets/key-document.js';
import { rotationSteps } from '../../../core/secrets/rotation.js';
import { secretsManagerKeyStore } from '../../../core/secrets/secrets-manager-store.js';
import { fakeSecretsManager } from '../../helpers/fake-secrets-manager.js';
import { githubContainers } from '../../helpers/github-containers.js';

const SECRET_ID = 'hookwarden-test/github/keys';
const CACHE_SECONDS = 30;
const T0 = 1_900_000_000_000;
const INITIAL = 'InitialDeployKey0123456789abcdef';

/**
 * A rotation whose finishSecret ran hours after its createSecret (Secrets Manager
 * retried a failing setSecret or testSecret): its staged key's createdAt is hours
 * old, but the functions have had the document holding it only since the finish.
 * A rotation right after must not switch the provider to that key yet.
 */
describe('a rotation that finished late (github mode, key cache 30 s, three containers)', () => {
  let clock = T0;
  const now = () => clock;
  const sm = fakeSecretsManager(SECRET_ID, JSON.stringify({ keys: [], secret: INITIAL }), now);
  afterAll(() => sm.mock.restore());
  const { functions, accepts } = githubContainers({ client: sm.client, secretId: SECRET_ID, cacheSeconds: CACHE_SECONDS, now });
  let githubKey = INITIAL;
  const counts = { signed: 0, refused: 0 };
  const steps = rotationSteps({
    store: secretsManagerKeyStore(sm.client, SECRET_ID, now),
    provider: {
      name: 'GitHub hook (simulated)',
      set: async (secret) => {
        githubKey = secret;
      },
      test: async () => {},
    },
    generate: () => generateKey('github'),
    cacheSeconds: CACHE_SECONDS,
    overlapSeconds: 600,
    now,
  });
  /** Every 5 s, each container gets a delivery signed as GitHub signs now. */
  const advance = async (seconds: number): Promise<void> => {
    for (let s = 0; s < seconds; s += 5) {
      clock += 5_000;
      for (const fn of functions) {
        counts.signed++;
        if (!(await accepts(fn, githubKey))) counts.refused++;
      }
    }
  };
  const rotate = async (token: string): Promise<void> => {
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await steps[step](token);
  };
  const staged = () =>
    (JSON.parse(sm.version('AWSCURRENT')?.[1].text ?? '{}') as { keys: Array<{ secret: string; next?: boolean }> }).keys.find((k) => k.next)
      ?.secret;

  it('counts the staged key as accepted from when its document became current, so no delivery is refused', async () => {
    // Stagger the containers' reads across a cache period.
    for (const fn of functions) {
      await fn.current();
      await advance(10);
    }
    // Rotation 1 writes its pending document (the staged key's createdAt is now), then fails for three hours.
    sm.startRotation('token-1');
    await steps.createSecret('token-1');
    await advance(3 * 3600);
    // Secrets Manager's retries get through: the document holding the staged key becomes current only now.
    await steps.setSecret('token-1');
    await steps.testSecret('token-1');
    await steps.finishSecret('token-1');
    const next = staged();
    expect(next).toBeDefined();
    // Ten seconds later an operator rotates again: some containers still hold the document without the staged key.
    await advance(10);
    sm.startRotation('token-2');
    await rotate('token-2');
    expect(githubKey).toBe(INITIAL);
    expect(staged()).toBe(next);
    await advance(2 * CACHE_SECONDS);
    expect(counts.refused).toBe(0);

    // The switch still comes once a cache period (and its margin) has passed since the document became current.
    await advance(CACHE_SECONDS + stageMarginSeconds(CACHE_SECONDS));
    sm.startRotation('token-3');
    await rotate('token-3');
    expect(githubKey).toBe(next);
    await advance(2 * CACHE_SECONDS);
    expect(counts.refused).toBe(0);
    expect(counts.signed).toBeGreaterThan(6000);
  });
});
