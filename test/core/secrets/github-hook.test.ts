import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubHookSwitch } from '../../../core/secrets/github-hook.js';
import { startGitHubStandIn, type GitHubStandIn } from '../../helpers/github-stand-in.js';

const TOKEN = 'ghp_leakedTokenValue0123456789';

describe('githubHookSwitch with a token that cannot be one (hookwarden rotate reads it from tokenEnv)', () => {
  let github: GitHubStandIn;
  beforeAll(async () => {
    github = await startGitHubStandIn(TOKEN);
  });
  afterAll(() => github.close());

  // fetch trims the surrounding whitespace itself, but refuses a line break or NUL inside and quotes the whole header value.
  it.each([
    ['a line break inside', `${TOKEN}\r\nghp_second`],
    ['a NUL inside', `${TOKEN}\u0000`],
  ])('refuses a token holding %s before any request, never quoting it', async (_, token) => {
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
});
