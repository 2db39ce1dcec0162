import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const withFile = (sources: unknown[]): string => {
  const cwd = emptyDir();
  writeFileSync(join(cwd, 'hookwarden.config.json'), JSON.stringify({ sources }));
  return cwd;
};
const github = { name: 'gh', scheme: 'github', secretEnv: 'GH_SECRET' };
const env = { GH_SECRET: TEST_SECRETS.github };

const problemsOf = (sources: unknown[]): readonly string[] => {
  try {
    loadConfig(env, withFile(sources));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe("a source's rotation block", () => {
  it('defaults to manual every 90 days with a 24 h overlap, in the file and from the environment', () => {
    expect(loadConfig(env, withFile([github])).sources.get('gh')?.rotation).toMatchObject({
      mode: 'manual',
      every: '90d',
      everySeconds: 90 * 86_400,
      overlapSeconds: 86_400,
      defaulted: true,
    });
    expect(loadConfig({ WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks }, emptyDir()).sources.get('default')?.rotation).toMatchObject({
      mode: 'manual',
      every: '90d',
    });
  });

  it('is part of the one description: written with its defaults filled in, read back unchanged, the same schedule served', () => {
    const sources = [
      { ...github, rotation: { mode: 'github', every: ' 30d', github: { repository: 'acme/shop', hookId: 42 }, tokenEnv: 'GITHUB_TOKEN' } },
      { name: 'plain', scheme: 'github', secretEnv: 'GH_SECRET' },
    ];
    const { description, problems } = describeConfig(env, withFile(sources));
    expect(problems).toEqual([]);
    expect(description.sources[0]?.rotation).toEqual({
      mode: 'github',
      every: '30d',
      overlap: '24h',
      github: { repository: 'acme/shop', hookId: 42 },
      tokenEnv: 'GITHUB_TOKEN',
    });
    expect(description.sources[1]?.rotation).toBeUndefined();
    const again = describeConfig(env, withFile(JSON.parse(JSON.stringify(description.sources)) as unknown[]));
    expect(again).toMatchObject({ problems: [], description: { sources: description.sources } });
    const served = loadConfig(env, withFile(description.sources as unknown[])).sources;
    expect(served.get('gh')?.rotation).toEqual(loadConfig(env, withFile(sources)).sources.get('gh')?.rotation);
    expect(served.get('plain')?.rotation).toMatchObject({ mode: 'manual', every: '90d', defaulted: true });
  });

  it('reads github, shared and manual modes', () => {
    const config = loadConfig(
      { ...env, HMAC_SECRET: TEST_SECRETS.github },
      withFile([
        {
          ...github,
          rotation: {
            mode: 'github',
            every: '30d',
            overlap: '2h',
            github: { repository: 'acme/shop', hookId: 42 },
            tokenEnv: 'GITHUB_TOKEN',
          },
        },
        {
          name: 'team',
          scheme: 'hmac',
          hmac: { header: 'x-signature' },
          secretEnv: 'HMAC_SECRET',
          rotation: { mode: 'shared', every: '7d' },
        },
        {
          name: 'org',
          scheme: 'github',
          secretEnv: 'GH_SECRET',
          rotation: {
            mode: 'github',
            github: { organization: 'acme', hookId: 7 },
            tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-token-AbCdEf',
          },
        },
      ]),
    );
    expect(config.sources.get('gh')?.rotation).toMatchObject({
      mode: 'github',
      everySeconds: 30 * 86_400,
      overlapSeconds: 7200,
      github: { repository: 'acme/shop', hookId: 42 },
      tokenEnv: 'GITHUB_TOKEN',
      defaulted: false,
    });
    expect(config.sources.get('team')?.rotation).toMatchObject({ mode: 'shared', everySeconds: 7 * 86_400, overlapSeconds: 86_400 });
    expect(config.sources.get('org')?.rotation.github).toEqual({ organization: 'acme', hookId: 7 });
  });

  it.each([
    ['not an object', 'yearly', /sources\[0\]\.rotation: must be an object/],
    ['an unknown key', { mode: 'manual', evry: '90d' }, /sources\[0\]\.rotation\.evry: unknown key; the nearest known key is "every"/],
    [
      'an unknown mode',
      { mode: 'githb' },
      /sources\[0\]\.rotation\.mode: must be one of github, shared, manual, off, got "githb" \(the nearest is "github"\)/,
    ],
    [
      'a period without a unit',
      { every: '90' },
      /sources\[0\]\.rotation\.every: must be a duration like 30m, 24h or 90d, from 4h to 1000d, got "90"/,
    ],
    ['a period under 4 hours', { every: '1h' }, /sources\[0\]\.rotation\.every: .*from 4h to 1000d/],
    ['a period over 1000 days', { every: '1001d' }, /sources\[0\]\.rotation\.every: .*from 4h to 1000d/],
    ['a period in minutes that is not whole hours', { every: '250m' }, /sources\[0\]\.rotation\.every: must be whole hours or days/],
    ['an overlap as long as the period', { every: '1d', overlap: '24h' }, /sources\[0\]\.rotation\.overlap: must be shorter than "every"/],
    [
      'github mode without the hook',
      { mode: 'github', tokenEnv: 'T' },
      /sources\[0\]\.rotation\.github: is required with "mode": "github"/,
    ],
    [
      'github mode without a token',
      { mode: 'github', github: { repository: 'acme/shop', hookId: 1 } },
      /sources\[0\]\.rotation: needs "tokenEnv" \(locally\) or "tokenSecretArn"/,
    ],
    [
      'both a repository and an organization',
      { mode: 'github', tokenEnv: 'T', github: { repository: 'a/b', organization: 'a', hookId: 1 } },
      /sources\[0\]\.rotation\.github: needs exactly one of "repository"/,
    ],
    [
      'a repository without an owner',
      { mode: 'github', tokenEnv: 'T', github: { repository: 'shop', hookId: 1 } },
      /sources\[0\]\.rotation\.github\.repository: must be "owner\/repo"/,
    ],
    [
      'a hook id as a string',
      { mode: 'github', tokenEnv: 'T', github: { repository: 'a/b', hookId: '1' } },
      /sources\[0\]\.rotation\.github\.hookId: must be the hook's id/,
    ],
    [
      'a token variable that is no name',
      { mode: 'github', tokenEnv: 'my token', github: { repository: 'a/b', hookId: 1 } },
      /sources\[0\]\.rotation\.tokenEnv: must be an environment variable name/,
    ],
    [
      'github settings on a manual source',
      { mode: 'manual', github: { repository: 'a/b', hookId: 1 } },
      /sources\[0\]\.rotation\.github: is read only with "mode": "github"/,
    ],
    ['a reason on a rotating source', { mode: 'manual', reason: 'x' }, /sources\[0\]\.rotation\.reason: is read only with "mode": "off"/],
  ])('refuses %s, naming the key', (_, rotation, expected) => {
    const problems = problemsOf([{ ...github, rotation }]);
    expect(problems.some((p) => expected.test(p))).toBe(true);
  });

  it('refuses github mode on a non-github scheme and shared mode for a provider-issued secret', () => {
    const problems = problemsOf([
      {
        name: 'sw',
        scheme: 'standard-webhooks',
        generateSecret: true,
        rotation: { mode: 'github', tokenEnv: 'T', github: { repository: 'a/b', hookId: 1 } },
      },
      { name: 'stripe', scheme: 'stripe', rotation: { mode: 'shared' } },
    ]);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /sources\[0\]\.rotation\.mode: "github" sets a GitHub hook's secret, and this source's scheme is "standard-webhooks"/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/sources\[1\]\.rotation\.mode: "shared" generates the key, and stripe issues its own secret/),
    );
  });
});
