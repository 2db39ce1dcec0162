import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { resolveScheme } from '../../core/schemes/index.js';
import { secretsManagerProviders } from '../../core/secrets/secrets-manager.js';

const github = resolveScheme('github');

/**
 * `count` warm webhook-function containers reading one source secret through
 * their own key cache, and `accepts(fn, key)`: whether a container accepts a
 * delivery GitHub signs with `key` at the clock's time. The zero-rejection
 * tests drive a rotation against them.
 */
export const githubContainers = (options: {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly cacheSeconds: number;
  /** The clock, epoch milliseconds: the cache's and the signature's. */
  readonly now: () => number;
  /** @default 3 */
  readonly count?: number;
}) => {
  const { client, secretId, cacheSeconds, now } = options;
  const functions = Array.from({ length: options.count ?? 3 }, () =>
    secretsManagerProviders(client, { now })({ kind: 'secretsManager', secretId, cacheSeconds }),
  );
  const accepts = async (fn: (typeof functions)[number], key: string): Promise<boolean> => {
    const body = Buffer.from(`{"zen":"t=${now()}"}`);
    const headers = new Map(Object.entries(github.sign(key, { body })).map(([k, v]) => [k.toLowerCase(), [v]] as const));
    const keys = (await fn.current()).map((secret) => github.decodeSecret(secret));
    return github.verify({ headers, body }, keys, { nowSeconds: Math.floor(now() / 1000), maxAgeSeconds: 300 }).ok;
  };
  return { functions, accepts };
};
