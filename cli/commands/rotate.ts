import { randomBytes } from 'node:crypto';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { parseSecretDocument } from '../../functions/shared/secrets/secrets-manager';
import { CommandFailed, UsageError, type CliContext } from '../context';
import { output } from '../output';
import { defaultAwsClients, type AwsClients } from '../targets';
import { parseDuration } from './containment';

/** Options of `hookwarden rotate`. */
export interface RotateOptions {
  stack?: string;
  overlap: string;
  secretEnv?: string;
}

/**
 * `hookwarden rotate <source> --stack <name>`: puts a new key first in the
 * source's key document and keeps the current keys valid for the overlap
 * (`notAfter`), so deliveries signed with either verify while the provider
 * switches. The new key is the provider's (`--secret-env NAME`) or generated
 * (printed once, to give to the provider).
 */
export const rotateCommand = async (context: CliContext, source: string, options: RotateOptions, aws: AwsClients = defaultAwsClients): Promise<number> => {
  if (!options.stack) {
    throw new UsageError('rotate works on a deployed stack (--stack <name>); locally, list the new and the old secret in WEBHOOK_SECRET (comma-separated) and restart');
  }
  const overlapSeconds = parseDuration(options.overlap);
  let fresh: string | undefined;
  if (options.secretEnv !== undefined) {
    fresh = context.env[options.secretEnv]?.trim();
    if (!fresh) throw new UsageError(`--secret-env ${options.secretEnv}: the variable is not set`);
  }
  let secretId: string | undefined;
  try {
    const described = await aws.cloudFormation().send(new DescribeStacksCommand({ StackName: options.stack }));
    const outputs = described.Stacks?.[0]?.Outputs ?? [];
    secretId = outputs.find((o) => o.Description === `Secret holding the keys of source "${source}"`)?.OutputValue;
  } catch (error) {
    throw new CommandFailed(`cannot read stack ${options.stack}: ${(error as Error).message}`);
  }
  if (!secretId) throw new UsageError(`stack ${options.stack} has no secret for source "${source}"`);
  const client = aws.secretsManager();
  const current = parseSecretDocument((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString);
  const now = Math.floor(Date.now() / 1000);
  const until = now + overlapSeconds;
  const generated = fresh === undefined;
  const key = fresh ?? randomBytes(24).toString('base64');
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
