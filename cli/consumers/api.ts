import { readDevelopmentToken, developmentTokenPath } from '../../local/dev-token.js';
import { runningServer } from '../../local/server-info.js';
import { redactText } from '../../core/redaction.js';
import { HTTP_API_FRONT_DOOR, outputKey } from '../../lib/stack-outputs.js';
import { CommandFailed, UsageError, type CliContext } from '../context.js';
import { terminalSafe } from '../terminal.js';
import { defaultAwsClients, readStackOutputs, type AwsClients } from '../targets.js';

/** How long one API call or one forward may take. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** API answers worth coming back after: the server is busy, restarting or limiting this token. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** The longest of the growing pauses between tries. */
const MAX_BACKOFF_MS = 10_000;

/** The pause before try `retry` + 1 (0 for the first retry): `baseMs`, doubled each time, at most 10 s. */
export const growingPauseMs = (baseMs: number, retry: number): number => Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(retry, 4));

/** The pause a `Retry-After` header asks for, in ms (at most a minute), or 0 without a usable one. */
export const retryAfterMs = (response: Response): number => {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, 60_000) : 0;
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where the command-line consumers read deliveries: the API's base URL and a read token. */
export interface ApiTarget {
  /** Base URL without a trailing slash (`http://127.0.0.1:3000`, `https://…/prod`). */
  readonly url: string;
  readonly token: string;
  /** For messages: `the local server at …` or `stack …`. */
  readonly where: string;
}

/** Options every consumer takes. */
export interface ApiTargetOptions {
  /** A deployed stack: URL from its `ApiUrl` output. */
  stack?: string;
  /** The environment variable holding a read token (required with `--stack`). */
  tokenEnv?: string;
}

/** What an `Authorization: Bearer` value can carry: visible ASCII, no space (RFC 6750's b64token is narrower still). */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

const tokenFromEnv = (context: CliContext, name: string): string => {
  if (!ENV_NAME.test(name)) throw new UsageError(`--token-env takes the name of an environment variable, got "${terminalSafe(name)}"`);
  const token = (context.env[name] ?? '').trim();
  if (token === '') throw new UsageError(`--token-env ${name}: the variable is not set or empty (hookwarden token create prints a token)`);
  // fetch would refuse the header with a TypeError quoting it whole, which was printed (and `tail` retried it for ever).
  if (!HEADER_SAFE_TOKEN.test(token))
    throw new UsageError(
      `--token-env ${name}: the token holds a line break, a space or another character a header cannot carry (copied over two lines?); the value is not shown`,
    );
  return token;
};

/**
 * The API the consumers talk to. Without `--stack`: the running local server
 * (its `server.json` in the data directory) and the development token
 * `npm start` keeps beside it, unless `--token-env` names another. With
 * `--stack`: the stack's `ApiUrl` output and the token in `--token-env`.
 * @throws UsageError for a missing token variable; CommandFailed when there is no server or output
 */
export const apiTargetOf = async (
  context: CliContext,
  options: ApiTargetOptions,
  aws: AwsClients = defaultAwsClients,
): Promise<ApiTarget> => {
  if (options.stack) {
    if (options.tokenEnv === undefined)
      throw new UsageError(
        '--stack needs --token-env NAME: the environment variable holding a read token (hookwarden token create --stack … prints one)',
      );
    const token = tokenFromEnv(context, options.tokenEnv);
    const outputs = await readStackOutputs(aws, options.stack);
    if (outputs.get(outputKey('frontDoor')) === HTTP_API_FRONT_DOOR)
      throw new CommandFailed(
        `stack ${options.stack} has frontDoor=http-api: an HTTP API serves no deliveries API (its event stream needs REST's response streaming), so replay, tail and listen --stack need a stack deployed with frontDoor=rest; its deliveries are in the table its ${outputKey('deliveriesTable')} output names`,
      );
    const url = outputs.get(outputKey('apiUrl'));
    if (!url) throw new CommandFailed(`stack ${options.stack} has no ${outputKey('apiUrl')} output: is it a Hookwarden stack?`);
    return { url: url.replace(/\/+$/, ''), token, where: `stack ${options.stack}` };
  }
  const server = runningServer(context.dataDir);
  if (!server)
    throw new CommandFailed(
      `no local server is running with data directory ${context.dataDir}: start one with npm start (or pass --stack NAME --token-env NAME)`,
    );
  let token: string | undefined;
  if (options.tokenEnv !== undefined) token = tokenFromEnv(context, options.tokenEnv);
  else token = readDevelopmentToken(context.dataDir);
  if (!token)
    throw new CommandFailed(
      `no development token in ${developmentTokenPath(context.dataDir)}: restart npm start to create one, or pass --token-env NAME`,
    );
  return { url: server.url.replace(/\/+$/, ''), token, where: `the local server at ${server.url}` };
};

/** The API's error answer (`{"error":{code,message}}`) as one line, escaped. */
export const apiErrorOf = async (response: Response): Promise<string> => {
  const text = await response.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (error && typeof error.code === 'string') return terminalSafe(`${response.status} ${error.code}: ${String(error.message ?? '')}`);
  } catch {
    // not the API's error shape: the status alone
  }
  return `${response.status} ${terminalSafe(response.statusText)}`;
};

/** GET `path` on the API with the read token. @throws CommandFailed when nothing answers */
export const apiGet = async (
  target: ApiTarget,
  path: string,
  init: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Response> => {
  // Ctrl+C's signal does not replace the timeout: an API that takes the connection and never answers must not stop `listen` for good.
  const timeout = AbortSignal.timeout(init.timeoutMs ?? REQUEST_TIMEOUT_MS);
  try {
    return await fetch(`${target.url}${path}`, {
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json', ...init.headers },
      signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
      redirect: 'error',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError' && init.signal?.aborted) throw error;
    throw new CommandFailed(`cannot reach ${target.where} (${target.url}${path}): ${causeOf(error, target)}`);
  }
};

/**
 * A network error's useful part: undici hides it in `cause`. Less the read token, whole or in part, when `target` is
 * given: fetch's own errors quote the header values they refuse.
 */
export const causeOf = (error: unknown, target?: Pick<ApiTarget, 'token'>): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = cause?.code ?? cause?.message ?? (error as Error).message;
  return target ? redactText(text, [target.token, `Bearer ${target.token}`]) : text;
};
