import { resolve } from 'node:path';
import { configOf, readFileOrUsage, secretsOf, sourceOf, type CliContext } from '../context';
import { parseHeadersFile } from '../headers-file';
import { output } from '../output';

/** Options of `hookwarden verify`. */
export interface VerifyOptions {
  headers: string;
  body: string;
  now?: number;
  secretEnv?: string;
}

/** `hookwarden verify <source>`: check a captured request; exit 0 when valid, 1 when not. */
export const verifyCommand = (context: CliContext, sourceName: string, options: VerifyOptions): number => {
  const source = sourceOf(configOf(context), sourceName);
  const secrets = secretsOf(context, source, options.secretEnv);
  const headers = parseHeadersFile(readFileOrUsage(resolve(context.cwd, options.headers)).toString('utf8'));
  const body = readFileOrUsage(resolve(context.cwd, options.body));
  const result = source.scheme.verify(
    { headers, body },
    secrets.map((secret) => source.scheme.decodeSecret(secret)),
    { nowSeconds: options.now ?? Math.floor(Date.now() / 1000), maxAgeSeconds: source.maxAgeSeconds },
  );
  if (!result.ok) {
    output.line(`invalid: ${result.code}: ${result.reason}`);
    return 1;
  }
  const eventType = result.eventType ?? source.scheme.eventTypeOf?.({ headers, body });
  output.line(`valid: id=${result.deliveryId} event=${eventType ?? '-'}`);
  return 0;
};
