import { resolve } from 'node:path';
import type { SourceConfig } from '../../core/config/index.js';
import { runningServer } from '../../local/server-info.js';
import { sampleBody, shellQuote } from '../../local/sample.js';
import { bodyOf, configOf, secretsWithOrigin, sourceOf, UsageError, type CliContext, type SecretsOrigin } from '../context.js';
import { output } from '../output.js';

/** Options of `hookwarden sign` (and the signing half of `send`). */
export interface SignOptions {
  data?: string;
  file?: string;
  id?: string;
  timestamp?: number;
  curl?: boolean;
  /** Already validated and without a trailing slash (see the program's URL parser). */
  url?: string;
  secretEnv?: string;
}

/** A message as a provider would send it. */
export interface SignedMessage {
  readonly source: SourceConfig;
  readonly body: Buffer;
  /** The provider's headers, names as the provider spells them. */
  readonly headers: Readonly<Record<string, string>>;
  /** Which secret signed it. */
  readonly signedWith: SecretsOrigin;
}

/** Signs the body (from --data, --file or the scheme's sample) with the source's first secret, as its provider would. */
export const signedRequest = (context: CliContext, sourceName: string, options: SignOptions): SignedMessage => {
  const config = configOf(context);
  const source = sourceOf(config, sourceName);
  const { values, origin } = secretsWithOrigin(context, config, source, options.secretEnv);
  const [secret] = values;
  const body = bodyOf(context, options, () => sampleBody(source.schemeName));
  const headers = source.scheme.sign(secret as string, {
    body,
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.timestamp !== undefined ? { timestampSeconds: options.timestamp } : {}),
  });
  return { source, body, headers, signedWith: origin };
};

/** The base URL of the local server: the running one (its `server.json`), else `http://127.0.0.1:$PORT` (default 3000). */
export const defaultBaseUrl = (context: CliContext): string =>
  runningServer(context.dataDir)?.url ?? `http://127.0.0.1:${context.env.PORT || 3000}`;

/** `<base>/webhooks/<source>`. */
export const webhookUrl = (base: string, sourceName: string): string => `${base}/webhooks/${encodeURIComponent(sourceName)}`;

/** What a provider would declare: JSON when the body is JSON, else opaque bytes. */
export const contentTypeOf = (body: Buffer): string => {
  try {
    JSON.parse(body.toString('utf8'));
    return 'application/json';
  } catch {
    return 'application/octet-stream';
  }
};

/** `hookwarden sign <source>`: prints the headers, one `Name: value` per line, or a curl command. */
export const signCommand = (context: CliContext, sourceName: string, options: SignOptions): number => {
  // Without --curl only headers are printed: a --url would change nothing, in silence.
  if (!options.curl && options.url !== undefined)
    throw new UsageError('--url is the base URL of --curl: add --curl, or use hookwarden send --url');
  const { body, headers, signedWith } = signedRequest(context, sourceName, options);
  output.error(`signed with ${signedWith.label}`);
  if (!options.curl) {
    for (const [name, value] of Object.entries(headers)) output.line(`${name}: ${value}`);
    return 0;
  }
  const url = webhookUrl(options.url ?? defaultBaseUrl(context), sourceName);
  const flags = [
    `-H ${shellQuote(`content-type: ${contentTypeOf(body)}`)}`,
    ...Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`),
  ];
  // A file goes by path so binary bodies reach curl byte for byte; inline text uses --data-raw, where a leading @ is not a file name.
  const data =
    options.file !== undefined
      ? `--data-binary ${shellQuote(`@${resolve(context.cwd, options.file)}`)}`
      : `--data-raw ${shellQuote(body.toString('utf8'))}`;
  output.line(`curl -i -X POST ${shellQuote(url)} ${flags.join(' ')} ${data}`);
  return 0;
};
