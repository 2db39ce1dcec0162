import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { resolveScheme } from '../../core/schemes/index.js';
import type { SignatureScheme } from '../../core/schemes/types.js';
import { decodeKey } from '../../core/secrets/keys.js';
import { parseSecretDocument } from '../../core/secrets/secrets-manager.js';
import { readSettings } from '../../lib/settings.js';
import { UsageError, type CliContext } from '../context.js';
import { output } from '../output.js';
import { defaultAwsClients, readStackOutputs, sourceOutput, type AwsClients } from '../targets.js';
import { parseDuration } from './containment.js';

/** Options of `hookwarden rotate`. */
export interface RotateOptions {
  stack?: string;
  overlap: string;
  secretEnv?: string;
}

/**
 * The scheme a source was deployed with: read from the config file the CDK app
 * deploys from (the working directory's, or `HOOKWARDEN_CONFIG`), else `WEBHOOK_SCHEME` for `default`.
 * @throws UsageError when the source is not in that configuration
 */
const deployedScheme = (context: CliContext, source: string): SignatureScheme => {
  const { settings } = readSettings(() => undefined, context.env, context.cwd);
  const deployed = settings.sources.find((s) => s.name === source);
  if (!deployed) {
    throw new UsageError(`source "${source}" is not in ${settings.origin === 'environment' ? 'the environment (no hookwarden.config.json here)' : settings.origin}; run rotate where you deploy from, to check the new key for the source's scheme`);
  }
  try {
    return resolveScheme(deployed.scheme, deployed.hmac);
  } catch (error) {
    throw new UsageError(`source "${source}": ${(error as Error).message}`);
  }
};

/**
 * `hookwarden rotate <source> --stack <name>`: puts a new key first in the
 * source's key document and keeps the current keys valid for the overlap
 * (`notAfter`), so deliveries signed with either verify while the provider
 * switches. The new key is the provider's (`--secret-env NAME`) or generated
 * (printed once, to give to the provider). A provider's key is checked for the
 * source's scheme and length (at least 16 bytes) before anything is read or written.
 */
export const rotateCommand = async (context: CliContext, source: string, options: RotateOptions, aws: AwsClients = defaultAwsClients): Promise<number> => {
  if (!options.stack) {
    throw new UsageError('rotate works on a deployed stack (--stack <name>); locally, list the new and the old secret in WEBHOOK_SECRET (comma-separated) and restart');
  }
  const overlapSeconds = parseDuration(options.overlap);
  const scheme = deployedScheme(context, source);
  let fresh: string | undefined;
  if (options.secretEnv !== undefined) {
    fresh = context.env[options.secretEnv]?.trim();
    if (!fresh) throw new UsageError(`--secret-env ${options.secretEnv}: the variable is not set`);
    try {
      decodeKey(scheme, fresh);
    } catch (error) {
      // The problem, never the value.
      throw new UsageError(`--secret-env ${options.secretEnv}: the new key ${(error as Error).message} (scheme ${scheme.name}); nothing was written`);
    }
  }
  const secretId = sourceOutput(await readStackOutputs(aws, options.stack), 'secretArn', source);
  if (!secretId) throw new UsageError(`stack ${options.stack} has no secret for source "${source}"`);
  const client = aws.secretsManager();
  const current = parseSecretDocument((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString);
  const now = Math.floor(Date.now() / 1000);
  const until = now + overlapSeconds;
  const generated = fresh === undefined;
  const key = fresh ?? `${scheme.name === 'standard-webhooks' ? 'whsec_' : ''}${randomBytes(24).toString('base64')}`;
  const kept = current.keys
    .filter((k) => (k.notAfter === undefined || k.notAfter > now) && k.secret !== key)
    .map((k) => ({ secret: k.secret, notAfter: Math.min(k.notAfter ?? until, until) }));
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ keys: [{ secret: key }, ...kept] }) }));
  output.line(`rotated source ${source} in stack ${options.stack}: ${kept.length} previous key(s) stay valid until ${new Date(until * 1000).toISOString()}`);
  output.line('functions pick the new key set up within their secret cache period (5 minutes by default)');
  if (generated) {
    output.line('new secret (give it to the provider now; it is not shown again):');
    output.line(key);
  }
  return 0;
};
