import type { GitHubHook } from '../config/rotation.js';
import type { ProviderSwitch } from './rotation.js';

/** GitHub's REST API; `HOOKWARDEN_GITHUB_API_URL` points elsewhere (GitHub Enterprise Server, a test stand-in). */
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** Options of {@link githubHookSwitch}. */
export interface GitHubHookSwitchOptions {
  readonly hook: GitHubHook;
  /** A token allowed to administer the hook (`admin:repo_hook`, or `repository_hooks:write` / `organization_hooks:write`). */
  readonly token: string;
  /** @default https://api.github.com */
  readonly apiUrl?: string;
  /** How long testSecret waits for the ping's delivery to be answered. @default 30000 */
  readonly confirmTimeoutMs?: number;
  /** Wait between looks at the hook's deliveries. @default 1000 */
  readonly pollIntervalMs?: number;
}

/** A refused or failed GitHub API call: the method, path and status, never the token or the secret. */
export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError';
}

interface HookDelivery {
  readonly id: number;
  readonly event?: string;
  readonly status_code?: number;
}

/** `/repos/{owner}/{repo}/hooks/{id}` or `/orgs/{org}/hooks/{id}`. */
export const hookPath = (hook: GitHubHook): string =>
  hook.repository ? `/repos/${hook.repository}/hooks/${hook.hookId}` : `/orgs/${hook.organization}/hooks/${hook.hookId}`;

/**
 * What a refusal means for the on-call: a rate limit (403 with
 * `x-ratelimit-remaining: 0`, or 403/429 with `retry-after`) is no permission
 * problem, and says when to try again; another 403 or a 404 is the hook id or
 * the token's permission.
 */
const refusalHint = (response: Response): string => {
  const retryAfter = response.headers.get('retry-after');
  const reset = Number(response.headers.get('x-ratelimit-reset'));
  if (
    response.status === 429 ||
    (response.status === 403 && (retryAfter !== null || response.headers.get('x-ratelimit-remaining') === '0'))
  ) {
    // GitHub sends whole seconds; anything else is not copied into the log.
    const when =
      retryAfter !== null && /^\d{1,6}$/.test(retryAfter)
        ? `, retry after ${retryAfter} s`
        : Number.isFinite(reset) && reset > 0
          ? ` until ${new Date(reset * 1000).toISOString()}`
          : '';
    return `: rate limited${when}, not a permission problem`;
  }
  return response.status === 404 || response.status === 403 ? ': check the hook id and that the token may administer the hook' : '';
};

/**
 * Why `token` (trimmed) cannot be a GitHub token, naming the problem and never
 * the value; `undefined` when it can be. Checked before any request: fetch
 * refuses a header value with a line break or NUL inside and quotes the whole
 * value, token included, in its error.
 */
export const tokenProblem = (token: string): string | undefined =>
  /^[\x21-\x7e]+$/.test(token.trim()) ? undefined : 'holds a space, a line break or another character a token cannot have';

/**
 * The GitHub side of a `github` rotation, through the REST API: `set` PATCHes
 * the hook's config with the new secret; `test` requests a ping and waits until
 * the hook's delivery log shows it answered with a 2xx (GitHub delivers it
 * signed with the new secret, so the pipeline has accepted that key).
 */
export const githubHookSwitch = (options: GitHubHookSwitchOptions): ProviderSwitch => {
  const base = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
  const path = hookPath(options.hook);
  const problem = tokenProblem(options.token);
  if (problem) throw new GitHubApiError(`the GitHub token ${problem}`);
  const token = options.token.trim();
  const call = async (method: string, suffix: string, body?: unknown): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}${suffix}`, {
        method,
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: `Bearer ${token}`,
          'X-GitHub-Api-Version': '2022-11-28',
          'User-Agent': 'hookwarden-rotation',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new GitHubApiError(`${method} ${path}${suffix}: GitHub's API is unreachable at ${base} (${(error as Error).message})`, {
        cause: error,
      });
    }
    if (!response.ok) {
      throw new GitHubApiError(`${method} ${path}${suffix}: GitHub answered ${response.status}${refusalHint(response)}`);
    }
    return response.status === 204 ? undefined : response.json();
  };
  const deliveries = async (): Promise<HookDelivery[]> =>
    ((await call('GET', '/deliveries?per_page=30')) as HookDelivery[] | undefined) ?? [];
  const name = `GitHub hook ${options.hook.repository ?? options.hook.organization} #${options.hook.hookId}`;
  return {
    name,
    set: async (secret) => {
      await call('PATCH', '/config', { secret });
    },
    test: async () => {
      const seen = new Set((await deliveries()).map((d) => d.id));
      await call('POST', '/pings');
      const deadline = Date.now() + (options.confirmTimeoutMs ?? 30_000);
      for (;;) {
        const ping = (await deliveries()).find(
          (d) => !seen.has(d.id) && d.event === 'ping' && d.status_code !== undefined && d.status_code !== 0,
        );
        if (ping) {
          if (ping.status_code !== undefined && ping.status_code >= 200 && ping.status_code < 300) return;
          throw new GitHubApiError(`${name}: the ping signed with the new secret was answered ${ping.status_code}, not 2xx`);
        }
        if (Date.now() > deadline)
          throw new GitHubApiError(
            `${name}: no answered ping in the hook's deliveries after ${(options.confirmTimeoutMs ?? 30_000) / 1000} s`,
          );
        await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 1_000));
      }
    },
  };
};
