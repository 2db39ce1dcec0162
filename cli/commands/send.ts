import { CommandFailed, UsageError, type CliContext } from '../context';
import { output } from '../output';
import { defaultBaseUrl, signedRequest, type SignOptions } from './sign';

/** Options of `hookwarden send`. */
export interface SendOptions extends SignOptions {
  header?: string[];
}

/** `hookwarden send <source>`: sign and POST; exit 0 on 2xx, 1 otherwise. */
export const sendCommand = async (context: CliContext, sourceName: string, options: SendOptions): Promise<number> => {
  const { body, headers } = signedRequest(context, sourceName, options);
  const extra: Record<string, string> = {};
  for (const header of options.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header "${header}": expected "Name: value"`);
    extra[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const url = `${options.url ?? defaultBaseUrl(context)}/webhooks/${encodeURIComponent(sourceName)}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers, ...extra } });
  } catch (error) {
    throw new CommandFailed(`cannot reach ${url}: ${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message} (is npm start running?)`);
  }
  output.line(`HTTP ${res.status} ${res.statusText}`);
  output.line(await res.text());
  return res.ok ? 0 : 1;
};
