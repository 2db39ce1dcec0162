import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SourceConfig } from '../../core/config/index.js';
import { rotationFromDescription, type RotationConfig } from '../../core/config/rotation.js';
import { Problems, secretCacheSecondsOf } from '../../core/config/rules.js';
import { resolveScheme } from '../../core/schemes/index.js';
import type { SignatureScheme } from '../../core/schemes/types.js';
import { DEFAULT_GITHUB_API_URL, githubHookSwitch } from '../../core/secrets/github-hook.js';
import {
  generateKey,
  planManualRotation,
  serializeKeyDocument,
  stageMarginSeconds,
  stagedKeyReadyAt,
  summarizeKeys,
  toKeyDocument,
  type KeyDocument,
} from '../../core/secrets/key-document.js';
import { fileKeyStore, keyFilePath, writePrivateFile } from '../../core/secrets/key-files.js';
import { decodeKey, keyProblem } from '../../core/secrets/keys.js';
import { GITHUB_SWITCH_SECONDS, rotateNow, rotationSteps } from '../../core/secrets/rotation.js';
import { parseSecretDocument } from '../../core/secrets/secrets-manager.js';
import { ensureKeyDocument, generateSecret } from '../../local/dev-secrets.js';
import { runningServer } from '../../local/server-info.js';
import { readSettings } from '../../lib/settings.js';
import { CommandFailed, configOf, sourceOf, UsageError, type CliContext } from '../context.js';
import { lockFile } from '../file-lock.js';
import { output } from '../output.js';
import { defaultAwsClients, readStackOutputs, regionOfArn, sourceOutput, type AwsClients } from '../targets.js';
import { parseDuration } from './containment.js';

/** Options of `hookwarden rotate`. */
export interface RotateOptions {
  stack?: string;
  /** @default the source's rotation overlap (24h) */
  overlap?: string;
  secretEnv?: string;
}

/** Schemes whose provider makes the signing secret itself: it cannot be given one (`rotate --stack` makes none for them). */
const PROVIDER_ISSUED: ReadonlyMap<string, string> = new Map([
  ['stripe', 'Stripe'],
  ['slack', 'Slack'],
  ['shopify', 'Shopify'],
]);

/**
 * RotateSecret's refusal while an earlier rotation of the secret is pending: `AWSPENDING` is on a version other than
 * `AWSCURRENT`'s (a step failed and Secrets Manager will reattempt it, or a step is running now). AWS words it
 * "A previous rotation isn't complete. That rotation will be reattempted." (name `InvalidRequestException`, which
 * RotateSecret also uses for other refusals: a secret marked for deletion, one without a rotation function).
 */
const rotationInProgress = (error: unknown): boolean =>
  error instanceof Error && error.name === 'InvalidRequestException' && /previous rotation isn.t complete/i.test(error.message);

/**
 * What `rotate --stack` says instead of AWS's words when a rotation is pending: which secret, that nothing was started,
 * and what the operator can do (wait, inspect, or end one that never finishes as docs/deploy.md says). Names, never a value.
 */
const rotationInProgressMessage = (source: string, stack: string, secretId: string): string =>
  [
    `source ${source} in stack ${stack}: a rotation of its secret ${secretId} is still in progress (its new version is labelled AWSPENDING and not yet current), so no other was started`,
    `  - wait: Secrets Manager reattempts the pending step; hookwarden keys ${source} --stack ${stack} shows the keys once it has finished, then rotate again if you still need to`,
    `  - see where it stands: aws secretsmanager describe-secret --secret-id ${secretId} (VersionIdsToStages: the AWSPENDING version; RotationLambdaARN: the function whose log says which step failed and why)`,
    `  - one that never finishes: docs/deploy.md, "A rotation that stays pending" (remove its AWSPENDING label; cancel-rotate-secret would also turn the schedule off)`,
  ].join('\n');

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** `--overlap`: `90s`, `30m`, `24h`, `7d` (at most 366 days); else the source's configured overlap. */
const overlapOf = (text: string | undefined, rotation: Pick<RotationConfig, 'overlapSeconds'>): number => {
  if (text === undefined) return rotation.overlapSeconds;
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`--overlap "${text}": expected a duration like 30m, 24h or 7d (up to 366d)`);
  }
};

/** The provider's new key from `--secret-env`, checked for the scheme and length; the message names the problem, never the value. */
const providerKey = (context: CliContext, name: string, scheme: SignatureScheme): string => {
  const fresh = context.env[name]?.trim();
  if (!fresh) throw new UsageError(`--secret-env ${name}: the variable is not set`);
  try {
    decodeKey(scheme, fresh);
  } catch (error) {
    throw new UsageError(`--secret-env ${name}: the new key ${(error as Error).message} (scheme ${scheme.name}); nothing was written`);
  }
  return fresh;
};

/**
 * The key cache period locally: `WEBHOOK_SECRET_CACHE_SECONDS` of this shell (else 300 s), or the
 * running `npm start`'s, whichever is longer: the server may have been started with another value,
 * and switching the sender before the server has read the staged key would have its deliveries refused.
 */
const localCacheSeconds = (context: CliContext): number => {
  // Checked as npm start checks it: a value it would refuse must not quietly become 300 s here.
  const problems = new Problems();
  const own = secretCacheSecondsOf(problems, context.env);
  if (problems.items.length > 0) throw new UsageError(problems.items.join('; '));
  const server = runningServer(context.dataDir)?.secretCacheSeconds;
  return typeof server === 'number' && Number.isFinite(server) ? Math.max(own, server) : own;
};

/**
 * The scheme and rotation a source was deployed with: read from the config file the CDK app
 * deploys from (the working directory's, or `HOOKWARDEN_CONFIG`), else `WEBHOOK_SCHEME` for `default`.
 * @throws UsageError when the source is not in that configuration
 */
const deployedSource = (context: CliContext, source: string): { scheme: SignatureScheme; rotation?: RotationConfig } => {
  const { settings } = readSettings(() => undefined, context.env, context.cwd);
  const deployed = settings.sources.find((s) => s.name === source);
  if (!deployed) {
    throw new UsageError(
      `source "${source}" is not in ${settings.origin === 'environment' ? 'the environment (no hookwarden.config.json here)' : settings.origin}; run rotate where you deploy from, to check the new key for the source's scheme`,
    );
  }
  try {
    return { scheme: resolveScheme(deployed.scheme, deployed.hmac), rotation: rotationFromDescription(deployed.rotation, deployed.scheme) };
  } catch (error) {
    throw new UsageError(`source "${source}": ${(error as Error).message}`);
  }
};

const printDocument = (document: KeyDocument, nowSeconds: number): void => {
  for (const key of summarizeKeys(document, nowSeconds)) {
    output.line(
      `  ${key.id.padEnd(12)} ${key.role.padEnd(8)} ${key.notAfter === undefined ? '' : `valid until ${iso(key.notAfter)}`}`.trimEnd(),
    );
  }
};

/**
 * The local key document, read strictly; a damaged one is named (never quoted), and nothing is written. `allowEmpty`:
 * a manual rotation may start from an emptied document (the emergency stop), as it brings the provider's new key.
 */
const localDocument = (path: string, allowEmpty: boolean): KeyDocument => {
  try {
    return toKeyDocument(parseSecretDocument(readFileSync(path, 'utf8'), { allowEmpty }));
  } catch (error) {
    throw new CommandFailed(
      `${path}: ${(error as Error).message}; nothing was rotated: fix the file, or delete it to start over with new keys`,
    );
  }
};

/** `rotate <source>` on the local store: the key document in the data directory, the same steps as the rotation function. */
const rotateLocally = async (context: CliContext, name: string, options: RotateOptions): Promise<number> => {
  const config = configOf(context);
  const source: SourceConfig = sourceOf(config, name);
  if (source.secret?.kind === 'env') {
    throw new UsageError(
      `source "${name}" takes its secret from the environment variable ${source.secret.variable}, which this tool cannot change: put the new key first in ${source.secret.variable} (comma-separated, the current one after it until the provider has switched) and restart, or unset ${source.secret.variable} to keep the source's keys in the data directory's key document, which rotate changes`,
    );
  }
  if (source.secret?.kind === 'secretsManager')
    throw new UsageError(`source "${name}" keeps its keys in Secrets Manager (${source.secret.secretId}): rotate it with --stack <name>`);
  const { rotation } = source;
  const overlapSeconds = overlapOf(options.overlap, rotation);
  const manual = rotation.mode === 'manual' || rotation.mode === 'off';
  if (manual && options.secretEnv === undefined) {
    throw new UsageError(
      `source "${name}" rotates manually: issue a new secret in the provider's dashboard, export it, and pass its variable with --secret-env NAME`,
    );
  }
  if (!manual && options.secretEnv !== undefined) {
    throw new UsageError(
      `source "${name}" rotates in "${rotation.mode}" mode, where Hookwarden makes the key: --secret-env is for manual sources`,
    );
  }
  const fresh = options.secretEnv !== undefined ? providerKey(context, options.secretEnv, source.scheme) : undefined;
  const path = keyFilePath(context.dataDir, name);
  // The lock first: a source's first rotate made its key document before it, so a refused one still wrote it, and two
  // at once could each make one, the later replacing the document the earlier had rotated meanwhile.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const unlock = lockRotation(path, name);
  try {
    if (!existsSync(path)) ensureKeyDocument(context.dataDir, source, () => generateSecret(source.schemeName));
    return await rotateKeyFile(context, name, source, path, fresh, overlapSeconds);
  } finally {
    unlock();
  }
};

/**
 * Takes the lock of a local key document's rotation (`<key file>.lock`, holding the rotating process's id), for as long
 * as the rotation reads, plans and writes: two operators' `rotate` at the same moment each read the document, and the
 * second write dropped the first one's new key (a manual source's provider key, which then failed every delivery it
 * signed). A lock whose process is gone (a rotate killed midway) is taken over ({@link lockFile}).
 * @returns what gives the lock back
 * @throws CommandFailed while another rotate of the source runs
 */
const lockRotation = (keyFile: string, source: string): (() => void) =>
  lockFile(`${keyFile}.lock`, { what: `hookwarden rotate of source ${source}` });

/** The local rotation itself, under its lock ({@link lockRotation}). */
const rotateKeyFile = async (
  context: CliContext,
  name: string,
  source: SourceConfig,
  path: string,
  fresh: string | undefined,
  overlapSeconds: number,
): Promise<number> => {
  const { rotation } = source;
  const current = localDocument(path, fresh !== undefined);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const cacheSeconds = localCacheSeconds(context);
  if (fresh !== undefined) {
    const plan = planManualRotation(current, fresh, nowSeconds, overlapSeconds);
    writePrivateFile(path, serializeKeyDocument(plan.document));
    output.line(
      `rotated source ${name} in ${path}: the provider's new key is current; the previous keys stay valid until ${iso(nowSeconds + overlapSeconds)}`,
    );
    output.line(`the server accepts the new key within its key cache period (${cacheSeconds} s)`);
    printDocument(plan.document, nowSeconds);
    return 0;
  }
  let provider;
  if (rotation.mode === 'github') {
    const token = rotation.tokenEnv ? context.env[rotation.tokenEnv] : undefined;
    if (!token)
      throw new UsageError(`source "${name}": the GitHub token variable ${rotation.tokenEnv ?? '(rotation.tokenEnv)'} is not set`);
    provider = githubHookSwitch({
      hook: rotation.github as NonNullable<RotationConfig['github']>,
      token,
      apiUrl: context.env.HOOKWARDEN_GITHUB_API_URL || DEFAULT_GITHUB_API_URL,
    });
  }
  const store = fileKeyStore(path);
  const steps = rotationSteps({
    store,
    ...(provider ? { provider } : {}),
    generate: () => generateKey(source.schemeName),
    keyProblem: (secret) => keyProblem(source.scheme, secret),
    cacheSeconds,
    overlapSeconds,
    ...(provider ? { switchSeconds: GITHUB_SWITCH_SECONDS } : {}),
  });
  let outcome;
  try {
    outcome = await rotateNow(steps, store, randomUUID());
  } catch (error) {
    throw new CommandFailed(`rotation of source ${name} failed, nothing was switched after the failing step: ${(error as Error).message}`);
  }
  if (outcome.switchedTo) {
    const switched = provider ? `${provider.name} now signs with` : 'the sender now signs with';
    // The overlap and the window a promotion has after its plan (promotionWindowSeconds): what the document says.
    const retiring = outcome.document.keys.flatMap((key) =>
      key.next || key.secret === outcome.switchedTo?.secret || key.notAfter === undefined ? [] : [key.notAfter],
    );
    const until = retiring.length > 0 ? Math.max(...retiring) : nowSeconds + overlapSeconds;
    output.line(
      `rotated source ${name}: ${switched} key ${outcome.switchedTo.id ?? ''}${provider ? ' (its ping was accepted)' : ''}; the previous key stays valid until ${iso(until)}`,
    );
  } else {
    const margin = stageMarginSeconds(cacheSeconds);
    const readyAt = outcome.staged ? stagedKeyReadyAt(outcome.staged, await store.currentSince(), cacheSeconds) : nowSeconds;
    output.line(
      `source ${name}: staged key ${outcome.staged?.id ?? ''} for the next rotation; the provider switches to it only once the server has accepted it for a whole key cache period (${cacheSeconds} s) and a margin (${margin} s): run rotate again after ${iso(readyAt)}`,
    );
  }
  printDocument(outcome.document, nowSeconds);
  return 0;
};

/** The label a manual rotation's new version carries between its write and its promotion (Secrets Manager needs one). */
export const MANUAL_ROTATION_STAGE = 'HOOKWARDEN_MANUAL_ROTATION';

/**
 * Makes `text` the secret's current version in place of `planned`, the version it was planned from, or not at all.
 * Written as the new current version at once (PutSecretValue's default), a change landing between the read and the
 * write (another operator removing a leaked key, or rotating too) would be undone without a word. So the new version
 * is written under a label of its own, then `AWSCURRENT` is moved onto it off `planned`, which Secrets Manager refuses
 * once another version holds the label. The label of our own is then taken off: a refused version is left unlabelled,
 * which no function reads and Secrets Manager may remove.
 * @throws CommandFailed when the current version is no longer `planned`: nothing was changed
 */
const replaceCurrent = async (
  client: SecretsManagerClient,
  secretId: string,
  planned: string | undefined,
  text: string,
  source: string,
): Promise<void> => {
  const version = randomUUID();
  await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ClientRequestToken: version,
      SecretString: text,
      VersionStages: [MANUAL_ROTATION_STAGE],
    }),
  );
  try {
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: version,
        ...(planned ? { RemoveFromVersionId: planned } : {}),
      }),
    );
  } catch (error) {
    // Refused because the label moved, or failed otherwise (throttled, denied): the current version tells which.
    const now = await unlessFailed(() => client.send(new GetSecretValueCommand({ SecretId: secretId })));
    // The move landed and only its answer was lost.
    if (now?.VersionId === version) return;
    if (now !== undefined && now.VersionId !== planned)
      throw new CommandFailed(
        `source ${source}: the secret ${secretId} changed after this command read it (another rotation or an edit); nothing was changed: check it with hookwarden keys ${source} --stack, then run rotate again if it still needs one`,
      );
    throw error;
  } finally {
    // A label left behind (this call failing too) is harmless: no function reads it, and the next run writes its own.
    await unlessFailed(() =>
      client.send(
        new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: MANUAL_ROTATION_STAGE, RemoveFromVersionId: version }),
      ),
    );
  }
};

/** What `call` resolves to, or undefined when it fails. */
const unlessFailed = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await call();
  } catch {
    return undefined;
  }
};

/**
 * `hookwarden rotate <source>`: locally by default (the key document in the
 * data directory, as `block` acts on the local store), on a deployed stack with
 * `--stack`. `github` and `shared` sources run the rotation steps (on AWS: the
 * stack's rotation function, started with RotateSecret); `manual` ones take the
 * provider's new key from `--secret-env NAME`, checked for the scheme first.
 */
export const rotateCommand = async (
  context: CliContext,
  source: string,
  options: RotateOptions,
  aws: AwsClients = defaultAwsClients,
): Promise<number> => {
  if (!options.stack) return rotateLocally(context, source, options);
  const deployed = deployedSource(context, source);
  const mode = deployed.rotation?.mode ?? 'manual';
  const secretId = async (): Promise<string> => {
    const id = sourceOutput(await readStackOutputs(aws, options.stack as string), 'secretArn', source);
    if (!id) throw new UsageError(`stack ${options.stack} has no secret for source "${source}"`);
    return id;
  };
  // As locally: Hookwarden makes these keys, and a key written beside a rotation in progress would be dropped by its finishSecret.
  if ((mode === 'github' || mode === 'shared') && options.secretEnv !== undefined) {
    throw new UsageError(
      `source "${source}" rotates in "${mode}" mode, where Hookwarden makes the key: --secret-env is for manual sources`,
    );
  }
  // The stack's rotation function keeps the previous key for the overlap it was deployed with: an --overlap here would be ignored.
  if ((mode === 'github' || mode === 'shared') && options.overlap !== undefined) {
    throw new UsageError(
      `--overlap: on a stack, the rotation function of a "${mode}" source keeps the previous key for the source's rotation "overlap" (${deployed.rotation?.overlap ?? '24h'}) it was deployed with; change it in the configuration and deploy, then rotate without --overlap`,
    );
  }
  if (mode === 'github' || mode === 'shared') {
    const id = await secretId();
    try {
      await aws.secretsManager(regionOfArn(id)).send(new RotateSecretCommand({ SecretId: id, RotateImmediately: true }));
    } catch (error) {
      if (rotationInProgress(error)) throw new CommandFailed(rotationInProgressMessage(source, options.stack, id));
      throw error;
    }
    output.line(
      `started the rotation of source ${source} in stack ${options.stack}: the stack's rotation function runs createSecret, setSecret, testSecret and finishSecret (hookwarden keys ${source} --stack ${options.stack} shows the result)`,
    );
    return 0;
  }
  // A key made here is for a provider that takes one (a hook's secret set by hand, a team's own sender). These providers
  // only issue their own: made current, it would never sign a delivery, and the provider's key would expire with the overlap.
  const issuer = PROVIDER_ISSUED.get(deployed.scheme.name);
  if (options.secretEnv === undefined && issuer !== undefined) {
    throw new UsageError(
      `source "${source}" (scheme ${deployed.scheme.name}): ${issuer} issues the signing secret and takes none made here: issue a new one in its dashboard, export it, and pass its variable with --secret-env NAME; nothing was written`,
    );
  }
  const overlapSeconds = overlapOf(options.overlap, deployed.rotation ?? { overlapSeconds: 86_400 });
  const fresh = options.secretEnv !== undefined ? providerKey(context, options.secretEnv, deployed.scheme) : undefined;
  const id = await secretId();
  const client = aws.secretsManager(regionOfArn(id));
  const read = await client.send(new GetSecretValueCommand({ SecretId: id }));
  const text = read.SecretString;
  let current: KeyDocument;
  try {
    // From an emptied document (the emergency stop) too: the new key is the way back.
    current = toKeyDocument(parseSecretDocument(text, { allowEmpty: true }));
  } catch (error) {
    throw new CommandFailed(`${id}: ${(error as Error).message}; nothing was written: fix the secret's current version first`);
  }
  const now = Math.floor(Date.now() / 1000);
  const generated = fresh === undefined;
  const key = fresh ?? `${deployed.scheme.name === 'standard-webhooks' ? 'whsec_' : ''}${randomBytes(24).toString('base64')}`;
  const plan = planManualRotation(current, key, now, overlapSeconds);
  await replaceCurrent(client, id, read.VersionId, serializeKeyDocument(plan.document), source);
  output.line(
    `rotated source ${source} in stack ${options.stack}: ${plan.document.keys.length - 1} previous key(s) stay valid until ${iso(now + overlapSeconds)}`,
  );
  output.line('functions pick the new key set up within their secret cache period (5 minutes by default)');
  if (generated) {
    output.line('new secret (give it to the provider now; it is not shown again):');
    output.line(key);
  }
  return 0;
};
