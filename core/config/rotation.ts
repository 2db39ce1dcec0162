import { isObject, nearest, unknownKeys } from './keys.js';
import { ENV_NAME, Problems } from './rules.js';

/** The rotation modes: the provider's secret set through GitHub's API, read by the sender itself, or changed by a person. */
export const ROTATION_MODES = ['github', 'shared', 'manual', 'off'] as const;
/** One of {@link ROTATION_MODES}. */
export type RotationMode = (typeof ROTATION_MODES)[number];

/** Keys of a source's `rotation` object and of its `github` object. */
export const ROTATION_KEYS = ['mode', 'every', 'overlap', 'github', 'tokenEnv', 'tokenSecretArn', 'reason'] as const;
const GITHUB_KEYS = ['repository', 'organization', 'hookId'] as const;

/** The hook whose secret `github` rotation sets: a repository's or an organization's. */
export interface GitHubHook {
  /** `owner/repo`, for `/repos/{owner}/{repo}/hooks/{hookId}`. */
  readonly repository?: string;
  /** For `/orgs/{org}/hooks/{hookId}`. */
  readonly organization?: string;
  readonly hookId: number;
}

/** A source's rotation schedule, validated. */
export interface RotationConfig {
  /** @default 'manual' */
  readonly mode: RotationMode;
  /** How often the key changes (as written, e.g. `90d`). @default '90d' */
  readonly every: string;
  /** {@link every} in seconds. */
  readonly everySeconds: number;
  /** How long the previous key stays valid after a switch (as written). @default '24h' */
  readonly overlap: string;
  /** {@link overlap} in seconds. @default 86400 */
  readonly overlapSeconds: number;
  /** `github` mode only. */
  readonly github?: GitHubHook;
  /** `github` mode, locally: the variable holding the API token. */
  readonly tokenEnv?: string;
  /** `github` mode, on AWS: the secret holding the API token. */
  readonly tokenSecretArn?: string;
  /** `off` mode: why this source's key never rotates (the production checklist wants one). */
  readonly reason?: string;
  /** No `rotation` block was written: the default applies. */
  readonly defaulted: boolean;
}

/** A `rotation` block as the parser describes it: the config file's keys, defaults filled in (plain JSON). */
export interface RotationDescription {
  readonly mode: RotationMode;
  readonly every: string;
  readonly overlap: string;
  readonly github?: GitHubHook;
  readonly tokenEnv?: string;
  readonly tokenSecretArn?: string;
  readonly reason?: string;
}

/** Secrets Manager schedules rotation from 4 hours to 1000 days. */
export const MIN_EVERY_SECONDS = 4 * 3600;
export const MAX_EVERY_SECONDS = 1000 * 86_400;
/** What a source without a `rotation` block gets: every secret has a due date. */
export const DEFAULT_ROTATION: RotationConfig = Object.freeze({
  mode: 'manual',
  every: '90d',
  everySeconds: 90 * 86_400,
  overlap: '24h',
  overlapSeconds: 86_400,
  defaulted: true,
});

const DURATION = /^(\d{1,7})(m|h|d)$/;
const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400 } as const;

/** `30m`, `24h`, `90d` in seconds; `undefined` when not of that form. */
export const durationSeconds = (text: unknown): number | undefined => {
  const match = typeof text === 'string' ? DURATION.exec(text.trim()) : null;
  return match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : undefined;
};

/** Schemes whose secret the provider issues in its dashboard: `shared` (we generate the key) cannot serve them. */
const PROVIDER_ISSUED = new Set(['stripe', 'slack', 'shopify']);
const REPOSITORY = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const ORGANIZATION = /^[A-Za-z0-9-]{1,39}$/;

const duration = (problems: Problems, where: string, raw: unknown, fallback: string, min: number, max: number): number => {
  const text = raw ?? fallback;
  const seconds = durationSeconds(text);
  if (seconds === undefined || seconds < min || seconds > max) {
    const bound = (s: number): string => (s % 86_400 === 0 ? `${s / 86_400}d` : s % 3600 === 0 ? `${s / 3600}h` : `${s / 60}m`);
    problems.add(where, `must be a duration like 30m, 24h or 90d, from ${bound(min)} to ${bound(max)}, got ${JSON.stringify(raw)}`);
    return durationSeconds(fallback) as number;
  }
  return seconds;
};

const githubHook = (problems: Problems, where: string, raw: unknown): GitHubHook | undefined => {
  if (!isObject(raw)) {
    problems.add(where, 'must be an object like {"repository":"owner/repo","hookId":123} or {"organization":"org","hookId":123}');
    return undefined;
  }
  unknownKeys(problems, (key) => `${where}.${key}`, raw, GITHUB_KEYS);
  const { repository, organization, hookId } = raw;
  let ok = true;
  if ((repository === undefined) === (organization === undefined)) {
    problems.add(where, 'needs exactly one of "repository" ("owner/repo") or "organization"');
    ok = false;
  }
  if (repository !== undefined && (typeof repository !== 'string' || !REPOSITORY.test(repository))) {
    problems.add(`${where}.repository`, `must be "owner/repo", got ${JSON.stringify(repository)}`);
    ok = false;
  }
  if (organization !== undefined && (typeof organization !== 'string' || !ORGANIZATION.test(organization))) {
    problems.add(`${where}.organization`, `must be a GitHub organization name, got ${JSON.stringify(organization)}`);
    ok = false;
  }
  if (typeof hookId !== 'number' || !Number.isSafeInteger(hookId) || hookId < 1) {
    problems.add(`${where}.hookId`, `must be the hook's id, a positive whole number, got ${JSON.stringify(hookId)}`);
    ok = false;
  }
  if (!ok) return undefined;
  return { ...(repository ? { repository: repository as string } : { organization: organization as string }), hookId: hookId as number };
};

/**
 * A source's `rotation` block, every key checked and named in problems
 * (`sources[0].rotation.every`); {@link DEFAULT_ROTATION} when absent.
 * @param schemeName the source's scheme: `github` rotation needs the github scheme, `shared` a key this project generates
 */
export const rotationOf = (problems: Problems, where: string, raw: unknown, schemeName: string): RotationConfig => {
  if (raw === undefined) return DEFAULT_ROTATION;
  if (!isObject(raw)) {
    problems.add(where, 'must be an object like {"mode":"manual","every":"90d"}');
    return DEFAULT_ROTATION;
  }
  unknownKeys(problems, (key) => `${where}.${key}`, raw, ROTATION_KEYS);
  let mode: RotationMode = 'manual';
  if (raw.mode !== undefined) {
    if (typeof raw.mode === 'string' && (ROTATION_MODES as readonly string[]).includes(raw.mode)) mode = raw.mode as RotationMode;
    else
      problems.add(
        `${where}.mode`,
        `must be one of ${ROTATION_MODES.join(', ')}, got ${JSON.stringify(raw.mode)}${typeof raw.mode === 'string' ? ` (the nearest is "${nearest(raw.mode, ROTATION_MODES)}")` : ''}`,
      );
  }
  const everySeconds = duration(problems, `${where}.every`, raw.every, '90d', MIN_EVERY_SECONDS, MAX_EVERY_SECONDS);
  // Secrets Manager schedules in whole hours or days (rate(N hours)).
  if (everySeconds % 3600 !== 0)
    problems.add(
      `${where}.every`,
      `must be whole hours or days (Secrets Manager schedules rotation in hours or days), got ${JSON.stringify(raw.every)}`,
    );
  const overlapSeconds = duration(problems, `${where}.overlap`, raw.overlap, '24h', 60, 30 * 86_400);
  if (overlapSeconds >= everySeconds)
    problems.add(
      `${where}.overlap`,
      `must be shorter than "every" (${String(raw.every ?? '90d')}): a key would still be valid when the next one is retired`,
    );
  const onlyFor = (key: 'github' | 'tokenEnv' | 'tokenSecretArn' | 'reason', modes: readonly RotationMode[]): void => {
    if (raw[key] !== undefined && !modes.includes(mode))
      problems.add(
        `${where}.${key}`,
        `is read only with "mode": ${modes.map((m) => JSON.stringify(m)).join(' or ')}, and this mode is ${JSON.stringify(mode)}`,
      );
  };
  onlyFor('github', ['github']);
  onlyFor('tokenEnv', ['github']);
  onlyFor('tokenSecretArn', ['github']);
  onlyFor('reason', ['off']);
  let github: GitHubHook | undefined;
  if (mode === 'github') {
    if (schemeName !== 'github')
      problems.add(`${where}.mode`, `"github" sets a GitHub hook's secret, and this source's scheme is ${JSON.stringify(schemeName)}`);
    if (raw.github === undefined)
      problems.add(
        `${where}.github`,
        'is required with "mode": "github": {"repository":"owner/repo","hookId":123} or {"organization":"org","hookId":123}',
      );
    else github = githubHook(problems, `${where}.github`, raw.github);
    if (raw.tokenEnv === undefined && raw.tokenSecretArn === undefined)
      problems.add(where, 'needs "tokenEnv" (locally) or "tokenSecretArn" (on AWS): the GitHub API token that may set the hook\'s secret');
    if (raw.tokenEnv !== undefined && (typeof raw.tokenEnv !== 'string' || !ENV_NAME.test(raw.tokenEnv)))
      problems.add(`${where}.tokenEnv`, `must be an environment variable name, got ${JSON.stringify(raw.tokenEnv)}`);
    if (raw.tokenSecretArn !== undefined && (typeof raw.tokenSecretArn !== 'string' || !raw.tokenSecretArn.startsWith('arn:')))
      problems.add(`${where}.tokenSecretArn`, `must be a Secrets Manager secret ARN, got ${JSON.stringify(raw.tokenSecretArn)}`);
  }
  if (mode === 'shared' && PROVIDER_ISSUED.has(schemeName)) {
    problems.add(`${where}.mode`, `"shared" generates the key, and ${schemeName} issues its own secret in its dashboard: use "manual"`);
  }
  if (raw.reason !== undefined && (typeof raw.reason !== 'string' || raw.reason.trim() === ''))
    problems.add(`${where}.reason`, 'must be a non-empty string: why this key never rotates');
  return {
    mode,
    every: typeof raw.every === 'string' ? raw.every.trim() : '90d',
    everySeconds,
    overlap: typeof raw.overlap === 'string' ? raw.overlap.trim() : '24h',
    overlapSeconds,
    ...(github ? { github } : {}),
    ...(typeof raw.tokenEnv === 'string' ? { tokenEnv: raw.tokenEnv } : {}),
    ...(typeof raw.tokenSecretArn === 'string' ? { tokenSecretArn: raw.tokenSecretArn } : {}),
    ...(typeof raw.reason === 'string' && raw.reason.trim() ? { reason: raw.reason.trim() } : {}),
    defaulted: false,
  };
};

/** The written form of a validated schedule: what the description carries, and what {@link rotationOf} reads back unchanged. */
export const describeRotation = (rotation: RotationConfig): RotationDescription => ({
  mode: rotation.mode,
  every: rotation.every,
  overlap: rotation.overlap,
  ...(rotation.github ? { github: rotation.github } : {}),
  ...(rotation.tokenEnv !== undefined ? { tokenEnv: rotation.tokenEnv } : {}),
  ...(rotation.tokenSecretArn !== undefined ? { tokenSecretArn: rotation.tokenSecretArn } : {}),
  ...(rotation.reason !== undefined ? { reason: rotation.reason } : {}),
});

/**
 * A described source's schedule, ready to use (durations in seconds). The
 * description is the parser's own output, so nothing here can fail.
 */
export const rotationFromDescription = (described: RotationDescription | undefined, schemeName: string): RotationConfig =>
  described === undefined ? DEFAULT_ROTATION : rotationOf(new Problems(), 'rotation', described, schemeName);
