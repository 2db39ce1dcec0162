import { withoutSecrets } from '../../core/redaction.js';
import { keyFilePath } from '../../core/secrets/key-files.js';
import { fetchBlockedPort, fetchBlockedPortReason } from '../../local/fetch-ports.js';
import { runningServer, type ServerInfo } from '../../local/server-info.js';
import { CommandFailed, UsageError, configOf, sourceOf, type CliContext, type SecretsOrigin } from '../context.js';
import { output } from '../output.js';
import { safeUrl, shownUrl, urlCredentials, withSafeUrls } from '../shown-url.js';
import { terminalSafe } from '../terminal.js';
import { contentTypeOf, defaultBaseUrl, signedRequest, webhookUrl, type SignOptions } from './sign.js';

/** Options of `hookwarden send`. */
export interface SendOptions extends SignOptions {
  /** Extra headers as `[name, value]`, already validated by the program; they win over the signed ones. */
  header?: Array<[string, string]>;
  json?: boolean;
}

/** How long to wait for an answer: a webhook receiver that takes longer is broken from a provider's point of view too. */
const TIMEOUT_MS = 30_000;

// A server that generated the source's secret verifies with the key document it keeps (as its banner says), which
// dev-secrets.json no longer matches once the source has been rotated.
const describeSecret = (kind: string, context: CliContext, sourceName: string): string =>
  kind.startsWith('env:')
    ? `${kind.slice(4)} from its environment`
    : kind === 'development'
      ? `the keys in ${keyFilePath(context.dataDir, sourceName)}`
      : 'Secrets Manager';

/**
 * Refuses to send to the running local server when this shell's configuration
 * names a source it does not have or verifies with another scheme. Checked
 * before any secret is looked up: a shell with no secret for a source the
 * server does not have is told that, not to start the server it is running.
 * @throws UsageError naming both sides
 */
const checkSourceAgainstServer = (server: ServerInfo, sourceName: string, scheme: string): void => {
  if (!server.sources) return;
  const theirs = server.sources.find((s) => s.name === sourceName);
  const at = `the server at ${shownUrl(server.url)}`;
  if (!theirs) {
    throw new UsageError(
      `${at} has no source "${sourceName}" (its sources: ${server.sources.map((s) => s.name).join(', ')}): it was started with another configuration than this shell's`,
    );
  }
  if (theirs.scheme !== scheme) {
    throw new UsageError(
      `${at} verifies "${sourceName}" as ${theirs.scheme}, but this shell's configuration says ${scheme}: it was started with another configuration`,
    );
  }
};

/**
 * Refuses to send to the running local server when this shell would sign with
 * a secret from elsewhere than the one the server verifies with (the classic:
 * `WEBHOOK_SECRET` exported in the server's shell only). `--secret-env` is an
 * explicit choice and is not second-guessed.
 * @throws UsageError naming both sides and the fix
 */
const checkSecretAgainstServer = (context: CliContext, server: ServerInfo, sourceName: string, signedWith: SecretsOrigin): void => {
  const theirs = server.sources?.find((s) => s.name === sourceName);
  if (!theirs || signedWith.kind === 'explicit' || theirs.secret === signedWith.kind) return;
  const fix = theirs.secret.startsWith('env:')
    ? `export ${theirs.secret.slice(4)} here too, or pass --secret-env NAME`
    : theirs.secret === 'development'
      ? `unset ${signedWith.label} here, or restart npm start with it set`
      : 'pass --secret-env NAME';
  throw new UsageError(
    `the server at ${shownUrl(server.url)} verifies "${sourceName}" with ${describeSecret(theirs.secret, context, sourceName)}, but this shell would sign with ${signedWith.label}: ${fix}`,
  );
};

/** `{"error":{"reason":…}}` of a development server's refusal, if the answer has one. */
const reasonOf = (text: string): string | undefined => {
  try {
    const reason = (JSON.parse(text) as { error?: { reason?: unknown } }).error?.reason;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
};

/**
 * `hookwarden send <source>`: signs like the provider and POSTs to
 * `<base>/webhooks/<source>`; says which secret signed (stderr), prints the
 * status line and the body (stdout), and a development server's reason for a
 * refusal. `--json` prints one object instead. Every message, and `url` in
 * `--json`, shows the URL as replay and listen show a receiver's ({@link shownUrl}),
 * a redirect's `Location` as well; the request goes to the URL as given.
 * @returns 0 on 2xx, 1 on any other status
 * @throws UsageError when the running local server would verify with another source, scheme or secret (exit 2)
 * @throws CommandFailed naming the URL when nothing answers (exit 1)
 */
export const sendCommand = async (context: CliContext, sourceName: string, options: SendOptions): Promise<number> => {
  const base = options.url ?? defaultBaseUrl(context);
  // fetch refuses it (sign --curl may print it: curl sends it). Not echoed: the password is a secret.
  const { username, password } = new URL(base);
  if (username !== '' || password !== '')
    throw new UsageError(
      '--url: a URL with user:password@ cannot be sent (fetch refuses credentials in a URL); pass -H "Authorization: …"',
    );
  // Also refused by fetch, as "bad port", which read as a server not running (sign --curl prints it: curl sends it).
  const blocked = fetchBlockedPort(new URL(base));
  if (blocked !== undefined)
    throw new UsageError(
      `${options.url === undefined ? `the local server at ${shownUrl(base)}` : '--url'}: ${fetchBlockedPortReason(blocked)}; ${options.url === undefined ? 'run npm start on another PORT' : 'use another port'}, or print a curl command with hookwarden sign --curl`,
    );
  const running = runningServer(context.dataDir);
  const server = running && base === running.url ? running : undefined;
  if (server) checkSourceAgainstServer(server, sourceName, sourceOf(configOf(context), sourceName).schemeName);
  const { body, headers, source, signedWith } = signedRequest(context, sourceName, options);
  if (server) checkSecretAgainstServer(context, server, sourceName, signedWith);
  // Headers is case-insensitive, so `-H Content-Type:...` replaces the default instead of doubling it.
  const sent = new Headers({ 'content-type': contentTypeOf(body), ...headers });
  for (const [name, value] of options.header ?? []) sent.set(name, value);
  const url = webhookUrl(base, sourceName);
  // A relay's --url may carry a token in its path; the source name is this shell's own configuration, and what the
  // messages are about, so it stays even when long enough to pass for a token.
  const shown = webhookUrl(shownUrl(base), sourceName);
  // What no message quotes, whole or in part: a receiver may echo its request's path, or a header it was sent (an
  // Authorization given with -H), in its status text or Location.
  const secrets = [...urlCredentials(base), ...(options.header ?? []).map(([, value]) => value).filter((value) => value !== '')];
  if (!options.json) output.error(`signed with ${signedWith.label}`);
  let response: Response;
  let text: string;
  try {
    // A redirect is answered, not followed: the signed delivery goes to the URL given, never to one a server names.
    response = await fetch(url, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: sent,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'manual',
    });
    text = await response.text();
  } catch (error) {
    const cause = (error as Error).cause as NodeJS.ErrnoException | undefined;
    // fetch's messages may quote the URL ("Failed to parse URL from …").
    const why = withoutSecrets(withSafeUrls(cause?.message ?? (error as Error).message), secrets);
    // A server answers 413 to a body over its limit without reading it, and closes the connection while fetch still writes.
    if (body.length > source.maxBodyBytes && (cause?.code === 'EPIPE' || cause?.code === 'ECONNRESET'))
      throw new CommandFailed(
        `the server at ${shown} closed the connection while the body was being sent (${why}): the body is ${body.length} bytes, more than source "${sourceName}" accepts (maxBodyBytes ${source.maxBodyBytes}), and a server refuses such a body (413 payload_too_large) without reading it`,
      );
    const hint = options.url === undefined ? ' (is npm start running? or pass --url)' : '';
    throw new CommandFailed(`cannot reach ${shown}: ${why}${hint}`);
  }
  const reason = response.ok ? undefined : reasonOf(text);
  const statusText = withoutSecrets(withSafeUrls(response.statusText), secrets);
  if (options.json) {
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    output.json({
      url: shown,
      status: response.status,
      statusText,
      signedWith: signedWith.label,
      body: parsed,
      ...(reason ? { reason } : {}),
    });
    return response.ok ? 0 : 1;
  }
  output.line(`HTTP ${response.status} ${terminalSafe(statusText)}`.trimEnd());
  if (text !== '') output.line(terminalSafe(text, { layout: true }));
  if (reason !== undefined) output.error(`reason: ${terminalSafe(reason)}`);
  // The receiver chose the Location: it may name a relay's token, or echo the one this request carried.
  const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
  if (location !== null)
    output.error(
      `not followed: the answer redirects to ${terminalSafe(withoutSecrets(safeUrl(location), secrets))} (send it there with --url)`,
    );
  return response.ok ? 0 : 1;
};
