import { CommandFailed, type CliContext } from '../context';
import { output } from '../output';
import { contentTypeOf, defaultBaseUrl, signedRequest, webhookUrl, type SignOptions } from './sign';

/** Options of `hookwarden send`. */
export interface SendOptions extends SignOptions {
  /** Extra headers as `[name, value]`, already validated by the program; they win over the signed ones. */
  header?: Array<[string, string]>;
}

/** How long to wait for an answer: a webhook receiver that takes longer is broken from a provider's point of view too. */
const TIMEOUT_MS = 30_000;

/**
 * `hookwarden send <source>`: signs like the provider and POSTs to
 * `<base>/webhooks/<source>`; prints the status line and the body.
 * @returns 0 on 2xx, 1 on any other status
 * @throws CommandFailed naming the URL when nothing answers (exit 1)
 */
export const sendCommand = async (context: CliContext, sourceName: string, options: SendOptions): Promise<number> => {
  const { body, headers } = signedRequest(context, sourceName, options);
  // Headers is case-insensitive, so `-H Content-Type:...` replaces the default instead of doubling it.
  const sent = new Headers({ 'content-type': contentTypeOf(body), ...headers });
  for (const [name, value] of options.header ?? []) sent.set(name, value);
  const base = options.url ?? defaultBaseUrl(context);
  const url = webhookUrl(base, sourceName);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: 'POST', body: new Uint8Array(body), headers: sent, signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    const cause = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    const hint = options.url === undefined ? ' (is npm start running? or pass --url)' : '';
    throw new CommandFailed(`cannot reach ${url}: ${cause}${hint}`);
  }
  output.line(`HTTP ${response.status} ${response.statusText}`.trimEnd());
  if (text !== '') output.line(text);
  return response.ok ? 0 : 1;
};
