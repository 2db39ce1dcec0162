import { existsSync, readFileSync } from 'node:fs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { summarizeKeys, toKeyDocument, type KeySummary } from '../../core/secrets/key-document.js';
import { keyFilePath } from '../../core/secrets/key-files.js';
import { parseSecretDocument } from '../../core/secrets/secrets-manager.js';
import { configOf, sourceOf, UsageError, type CliContext } from '../context.js';
import { output } from '../output.js';
import { defaultAwsClients, readStackOutputs, regionOfArn, sourceOutput, type AwsClients } from '../targets.js';

/** Options of `hookwarden keys`. */
export interface KeysOptions {
  stack?: string;
  json?: boolean;
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** `3d 4h`, `5h 12m`, `40s`: an age at a glance. */
const age = (seconds: number): string => {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m` : `${seconds}s`;
};

/** The key document's text and where it was read, locally or from a stack. */
const documentOf = async (
  context: CliContext,
  source: string,
  options: KeysOptions,
  aws: AwsClients,
): Promise<{ text: string | undefined; where: string }> => {
  if (options.stack) {
    const secretId = sourceOutput(await readStackOutputs(aws, options.stack), 'secretArn', source);
    if (!secretId) throw new UsageError(`stack ${options.stack} has no secret for source "${source}"`);
    const client = aws.secretsManager(regionOfArn(secretId));
    return { text: (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString, where: secretId };
  }
  const configured = sourceOf(configOf(context), source);
  if (configured.secret?.kind === 'env')
    throw new UsageError(
      `source "${source}" takes its keys from the environment variable ${configured.secret.variable}; there is no key document to list`,
    );
  const path = keyFilePath(context.dataDir, source);
  if (!existsSync(path))
    throw new UsageError(`no key document for source "${source}" at ${path}: npm start creates it for a source without a secret variable`);
  return { text: readFileSync(path, 'utf8'), where: path };
};

/**
 * `hookwarden keys <source>`: the ids of the source's keys, their role
 * (current, next, previous, expired), age and expiry. Never a value.
 */
export const keysCommand = async (
  context: CliContext,
  source: string,
  options: KeysOptions,
  aws: AwsClients = defaultAwsClients,
): Promise<number> => {
  const { text, where } = await documentOf(context, source, options, aws);
  let keys: KeySummary[];
  try {
    // An emptied document (the emergency stop) is listed as such: no key.
    keys = summarizeKeys(toKeyDocument(parseSecretDocument(text, { allowEmpty: true })), Math.floor(Date.now() / 1000));
  } catch (error) {
    throw new UsageError(`${where}: ${(error as Error).message}`);
  }
  if (options.json) {
    output.json({
      source,
      where,
      keys: keys.map((k) => ({
        id: k.id,
        role: k.role,
        ...(k.createdAt !== undefined ? { createdAt: iso(k.createdAt), ageSeconds: k.ageSeconds } : {}),
        ...(k.notAfter !== undefined ? { notAfter: iso(k.notAfter) } : {}),
      })),
    });
    return 0;
  }
  output.line(`keys of source ${source} (${where}):${keys.length === 0 ? ' none: every delivery is refused until a key is put back' : ''}`);
  for (const key of keys) {
    const ageText = key.ageSeconds === undefined ? 'age unknown' : `age ${age(key.ageSeconds)}`;
    const expiry = key.notAfter === undefined ? 'no expiry' : `${key.role === 'expired' ? 'expired' : 'valid until'} ${iso(key.notAfter)}`;
    output.line(`  ${key.id.padEnd(12)} ${key.role.padEnd(8)} ${ageText.padEnd(16)} ${expiry}`);
  }
  return 0;
};
