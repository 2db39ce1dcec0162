import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubHookSwitch } from '../../../core/secrets/github-hook.js';
import { startGitHubStandIn, type GitHubStandIn } from '../../helpers/github-stand-in.js';

const TOKEN = 'ghp_leakedTokenValue0123456789';

describe("githubHookSwitch: GitHub's side of a rotation", () => {
  let github: GitHubStandIn;
  beforeAll(async () => {
    github = await startGitHubStandIn(TOKEN);
  });
  afterAll(() => github.close());

  // fetch trims the surrounding whitespace itself, but refuses a line break or NUL inside and quotes the whole header value.
  it.each([
    ['a line break inside', `${TOKEN}\r\nghp_second`],
    ['a NUL inside', `${TOKEN}\u0000`],
  ])('refuses a token (from tokenEnv or the token secret) holding %s before any request, never quoting it', async (_, token) => {
    let failure: Error | undefined;
    try {
      await githubHookSwitch({ hook: { repository: 'acme/shop', hookId: 42 }, token, apiUrl: github.url }).set('NewKey0123456789abcdef');
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message).toMatch(/the GitHub token holds a space, a line break or another character a token cannot have/);
    expect(`${failure?.message} ${failure?.stack} ${String(failure?.cause)}`).not.toContain('leaked');
    expect(github.requests).toHaveLength(0);
  });

  it.each([
    ['primary', /GitHub answered 403: rate limited until \d{4}-\d\d-\d\dT[\d:.]+Z, not a permission problem/],
    ['secondary', /GitHub answered 429: rate limited, retry after 60 s, not a permission problem/],
  ] as const)('names a %s rate limit as the reason a step failed, not the token or the hook id', async (kind, reason) => {
    github.hooks.set('repos/acme/shop/hooks/42', { url: 'http://127.0.0.1:9/unused' });
    github.rateLimited = kind;
    try {
      const hook = githubHookSwitch({ hook: { repository: 'acme/shop', hookId: 42 }, token: TOKEN, apiUrl: github.url });
      await expect(hook.set('NewKey0123456789abcdef')).rejects.toThrow(reason);
      await expect(hook.set('NewKey0123456789abcdef')).rejects.not.toThrow(/check the hook id/);
    } finally {
      github.rateLimited = undefined;
    }
  });
});
