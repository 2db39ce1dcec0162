import { refusalReason } from '../../core/schemes/index.js';
import { configOf, pathOption, readFileOrUsage, secretsWithOrigin, sourceOf, type CliContext } from '../context.js';
import { parseHeadersFile } from '../headers-file.js';
import { output } from '../output.js';
import { terminalSafe } from '../terminal.js';

/** Options of `hookwarden verify`. */
export interface VerifyOptions {
  headers: string;
  body: string;
  now?: number;
  secretEnv?: string;
  json?: boolean;
}

/**
 * `hookwarden verify <source>`: checks a captured request with the same scheme
 * code, secrets and tolerance as the receiver. Prints `valid: id=... event=...`
 * or `invalid: <code>: <reason>` (ids and event types escaped for the terminal),
 * or with `--json` one object; none names a secret.
 * @returns 0 when valid, 1 when not
 */
export const verifyCommand = (context: CliContext, sourceName: string, options: VerifyOptions): number => {
  const config = configOf(context);
  const source = sourceOf(config, sourceName);
  const { values: secrets, origin } = secretsWithOrigin(context, config, source, options.secretEnv, 'verify');
  const headersPath = pathOption(context, '--headers', options.headers);
  const bodyPath = pathOption(context, '--body', options.body);
  const headers = parseHeadersFile(readFileOrUsage(headersPath).toString('utf8'), headersPath);
  // Raw bytes: re-encoding the body is the classic way to break a valid signature.
  const body = readFileOrUsage(bodyPath);
  const result = source.scheme.verify(
    { headers, body },
    secrets.map((secret) => source.scheme.decodeSecret(secret)),
    { nowSeconds: options.now ?? Math.floor(Date.now() / 1000), maxAgeSeconds: source.maxAgeSeconds },
  );
  if (!result.ok) {
    const reason = refusalReason(result, headers, source.scheme);
    if (options.json) output.json({ valid: false, code: result.code, reason, secrets: origin.label });
    else output.line(terminalSafe(`invalid: ${result.code}: ${reason}`));
    return 1;
  }
  const eventType = result.eventType ?? source.scheme.eventTypeOf?.({ headers, body });
  if (options.json) output.json({ valid: true, deliveryId: result.deliveryId, eventType: eventType ?? null, secrets: origin.label });
  else output.line(terminalSafe(`valid: id=${result.deliveryId} event=${eventType ?? '-'}`));
  return 0;
};
