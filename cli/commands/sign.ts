import { shellQuote, sampleBody } from '../../local/sample';
import { runningServer } from '../../local/index';
import { bodyOf, configOf, secretsOf, sourceOf, type CliContext } from '../context';
import { output } from '../output';

/** Options of `hookwarden sign`. */
export interface SignOptions {
  data?: string;
  file?: string;
  id?: string;
  timestamp?: number;
  curl?: boolean;
  url?: string;
  secretEnv?: string;
}

/** The headers a provider would send for a body, signed with the source's first secret. */
export const signedRequest = (context: CliContext, sourceName: string, options: SignOptions) => {
  const source = sourceOf(configOf(context), sourceName);
  const [secret] = secretsOf(context, source, options.secretEnv);
  const body = bodyOf(context, options, () => sampleBody(source.schemeName));
  const headers = source.scheme.sign(secret as string, {
    body,
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.timestamp !== undefined ? { timestampSeconds: options.timestamp } : {}),
  });
  return { source, body, headers };
};

/** The base URL of the local server: the running one, else PORT (default 3000). */
export const defaultBaseUrl = (context: CliContext): string =>
  runningServer(context.dataDir)?.url ?? `http://127.0.0.1:${context.env.PORT || 3000}`;

/** `hookwarden sign <source>`: print the headers (or a curl command). */
export const signCommand = (context: CliContext, sourceName: string, options: SignOptions): number => {
  const { body, headers } = signedRequest(context, sourceName, options);
  if (options.curl) {
    const url = `${options.url ?? defaultBaseUrl(context)}/webhooks/${sourceName}`;
    const flags = Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`);
    output.line(`curl -i -X POST ${url} -H 'content-type: application/json' ${flags.join(' ')} --data-binary ${shellQuote(body.toString('utf8'))}`);
    return 0;
  }
  for (const [name, value] of Object.entries(headers)) output.line(`${name}: ${value}`);
  return 0;
};
