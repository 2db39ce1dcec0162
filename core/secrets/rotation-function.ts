import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GitHubHook, RotationMode } from '../config/rotation.js';
import { DEFAULT_GITHUB_API_URL, githubHookSwitch, tokenProblem } from './github-hook.js';
import { decodeHmacSecret } from '../schemes/hmac.js';
import { resolveScheme } from '../schemes/index.js';
import { generateKey } from './key-document.js';
import { keyProblem } from './keys.js';
import { GITHUB_SWITCH_SECONDS, rotationSteps, type ProviderSwitch, type RotationSteps } from './rotation.js';
import { secretsManagerKeyStore } from './secrets-manager-store.js';

/** The event Secrets Manager invokes a rotation function with. */
export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/**
 * The file in the rotation function's bundle that lists its sources (a JSON
 * array of {@link RotatedSource}), named by `HOOKWARDEN_ROTATION_SOURCES_FILE`:
 * the list grows with the number of sources, and Lambda allows 4 KB of environment in all.
 */
export const ROTATION_SOURCES_FILE = 'rotation-sources.json';

/** One source the rotation function rotates ({@link ROTATION_SOURCES_FILE}, written by the stack). */
export interface RotatedSource {
  readonly source: string;
  /** The secret's name (the event carries its ARN, which ends in the name and a 6-character suffix). */
  readonly secretName: string;
  readonly scheme: string;
  readonly mode: Extract<RotationMode, 'github' | 'shared'>;
  readonly overlapSeconds: number;
  readonly github?: GitHubHook;
  /** The secret holding the GitHub API token: the plain token, or `{"token":"..."}`. */
  readonly tokenSecretArn?: string;
}

/** Dependencies of {@link createRotationHandler}. */
export interface RotationHandlerOptions {
  readonly client: SecretsManagerClient;
  readonly sources: readonly RotatedSource[];
  /** The webhook function's key cache period, seconds. */
  readonly cacheSeconds: number;
  /** @default https://api.github.com */
  readonly githubApiUrl?: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Why a step was refused before it ran. */
export class RotationRefused extends Error {
  override readonly name = 'RotationRefused';
}

/** The source whose secret the event names (by ARN, name or partial ARN). */
export const rotatedSourceOf = (sources: readonly RotatedSource[], secretId: string): RotatedSource | undefined =>
  sources.find(
    (s) =>
      secretId === s.secretName ||
      secretId.endsWith(`:secret:${s.secretName}`) ||
      new RegExp(`:secret:${s.secretName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[A-Za-z0-9]{6}$`).test(secretId),
  );

const tokenOf = async (client: SecretsManagerClient, arn: string): Promise<string> => {
  const text = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString?.trim() ?? '';
  let token: unknown = text;
  if (text.startsWith('{')) {
    try {
      token = (JSON.parse(text) as { token?: unknown }).token;
    } catch {
      // The parser's message quotes the text around the error: the token.
      throw new RotationRefused(`the GitHub token secret ${arn} starts with "{" but is not JSON`);
    }
    if (typeof token !== 'string' || !token) throw new RotationRefused(`the GitHub token secret ${arn} is JSON without a "token" string`);
  }
  if (!token) throw new RotationRefused(`the GitHub token secret ${arn} is empty`);
  const problem = tokenProblem(token as string);
  if (problem) throw new RotationRefused(`the GitHub token secret ${arn} ${problem}`);
  return (token as string).trim();
};

/**
 * The rotation function: checks the event as Secrets Manager's own rotation
 * templates do (rotation enabled, the token a version of the secret, pending
 * and not yet current), then runs that one step of {@link rotationSteps} for
 * the source (`github`: GitHub's API; `shared`: the document only). Each step
 * is safe to run again.
 * @returns the steps' outcome: `done` or `already current`
 */
export const createRotationHandler =
  (options: RotationHandlerOptions) =>
  async (event: RotationEvent): Promise<'done' | 'already current'> => {
    const { Step, SecretId, ClientRequestToken: token } = event;
    if (!['createSecret', 'setSecret', 'testSecret', 'finishSecret'].includes(Step))
      throw new RotationRefused(`unknown rotation step ${JSON.stringify(Step)}`);
    const source = rotatedSourceOf(options.sources, SecretId);
    if (!source) throw new RotationRefused(`secret ${SecretId} belongs to no source this function rotates`);
    const described = await options.client.send(new DescribeSecretCommand({ SecretId }));
    if (!described.RotationEnabled) throw new RotationRefused(`secret ${SecretId} does not have rotation enabled`);
    const stages = described.VersionIdsToStages?.[token];
    if (!stages) throw new RotationRefused(`secret version ${token} has no stage for rotation of secret ${SecretId}`);
    const store = secretsManagerKeyStore(options.client, SecretId, options.now ?? Date.now);
    if (stages.includes('AWSCURRENT')) {
      // A finishSecret retried after the label moved but before its time was recorded: record it now (later only delays a switch).
      if (Step === 'finishSecret') await store.promote(token);
      return 'already current';
    }
    if (!stages.includes('AWSPENDING'))
      throw new RotationRefused(`secret version ${token} is not set as AWSPENDING for rotation of secret ${SecretId}`);
    let provider: ProviderSwitch | undefined;
    if (source.mode === 'github' && source.github && (Step === 'setSecret' || Step === 'testSecret')) {
      if (!source.tokenSecretArn) throw new RotationRefused(`source ${source.source} has github rotation without tokenSecretArn`);
      provider = githubHookSwitch({
        hook: source.github,
        token: await tokenOf(options.client, source.tokenSecretArn),
        apiUrl: options.githubApiUrl ?? DEFAULT_GITHUB_API_URL,
      });
    }
    const steps: RotationSteps = rotationSteps({
      store,
      ...(provider ? { provider } : {}),
      generate: () => generateKey(source.scheme),
      keyProblem: (secret) =>
        keyProblem(source.scheme === 'hmac' ? { decodeSecret: decodeHmacSecret } : resolveScheme(source.scheme), secret),
      cacheSeconds: options.cacheSeconds,
      overlapSeconds: source.overlapSeconds,
      // Every step, whether it calls GitHub or not: the window must be the same from the plan to the promotion.
      ...(source.mode === 'github' ? { switchSeconds: GITHUB_SWITCH_SECONDS } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    await steps[Step](token);
    return 'done';
  };
