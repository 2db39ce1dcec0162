import { TABLES } from '../stores/tables.js';
import { editDistance, nearest } from './keys.js';
import { SINGLE_SOURCE_VARIABLES } from './model.js';
import { list, type Problems } from './rules.js';

/**
 * The variables whose absence lets more in: mistyped (`WEBHOOK_ALLOWED_IP`, `WEBHOOK_RATE_LIMTI`, `HOOKWARDEN_CONFIGG`),
 * one is ignored and the allowlist, a limit or the config file's sources are not applied. `CORS_ORIGINS` and
 * `TRUSTED_PROXIES` too, though theirs fails closed, as the silence is the trap. Not `WEBHOOK_SECRET`: without it
 * Lambda refuses to start and `npm start` says it made a development secret.
 */
export const GUARDED_VARIABLES = [
  ...SINGLE_SOURCE_VARIABLES.filter((name) => name !== 'WEBHOOK_SECRET'),
  'CORS_ORIGINS',
  'TRUSTED_PROXIES',
  'HOOKWARDEN_CONFIG',
  'HOOKWARDEN_CONFIG_JSON',
];

/**
 * Every other variable of Hookwarden's own (`test/core/config-variables.test.ts` finds each one the code reads here):
 * a name near a guarded one is a typo only when it is none of these.
 */
export const OTHER_VARIABLES = [
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_CACHE_SECONDS',
  'HOOKWARDEN_ACCEPT_RISKS',
  'HOOKWARDEN_API_RATE_LIMIT',
  'HOOKWARDEN_CONTROLS_REFRESH_SECONDS',
  'HOOKWARDEN_DATA_DIR',
  'HOOKWARDEN_GITHUB_API_URL',
  'HOOKWARDEN_KEY_AGE_SOURCES_FILE',
  'HOOKWARDEN_REQUEST_TIMEOUT_SECONDS',
  'HOOKWARDEN_ROTATION_SOURCES_FILE',
  'HOOKWARDEN_STREAM_KEEPALIVE_SECONDS',
  'HOOKWARDEN_STREAM_LOOKBACK_MS',
  'HOOKWARDEN_STREAM_MAX_SECONDS',
  'HOOKWARDEN_STREAM_POLL_MS',
  'HOOKWARDEN_STREAM_RATE_LIMIT',
  'HOOKWARDEN_STREAM_SETTLE_MS',
  'HOOKWARDEN_UNRELATED_VARIABLES',
  ...TABLES.map((table) => table.tableNameEnv),
] as const;

/** How far a name may be from a guarded one to read as its typo: 2 edits, 3 for the long names (`TRUSTED_PROXY`). */
const limitOf = (known: string): number => (known.length >= 15 ? 3 : 2);

/**
 * A lower bound of the edit distance, in one pass over each name: the characters one has and the other lacks
 * (counted, letter case ignored). It rules out nearly every variable of a Lambda or a developer's shell before the
 * full distance is computed: the check runs at every cold start.
 */
const bagDistance = (a: string, b: string): number => {
  const counts = new Int16Array(128);
  for (const char of a.toUpperCase()) counts[(char.codePointAt(0) as number) & 127]! += 1;
  for (const char of b.toUpperCase()) counts[(char.codePointAt(0) as number) & 127]! -= 1;
  let surplus = 0;
  let lack = 0;
  for (const count of counts)
    if (count > 0) surplus += count;
    else lack -= count;
  return Math.max(surplus, lack);
};

/** Whether `name` is within {@link limitOf} edits of `known`, the cheap bounds first. */
const nearEnough = (name: string, known: string): boolean => {
  const limit = limitOf(known);
  return Math.abs(name.length - known.length) <= limit && bagDistance(name, known) <= limit && editDistance(name, known) <= limit;
};

/** The variable that names set variables belonging to something else: near misses that are not typos. */
export const UNRELATED = 'HOOKWARDEN_UNRELATED_VARIABLES';

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The names listed in {@link UNRELATED} (comma-separated, exact names), each checked: a name no variable can have is
 * a problem, and so is one Hookwarden reads itself (`CORS_ORIGINS`), which is read whatever the list says.
 */
const unrelatedVariables = (problems: Problems, raw: string | undefined): ReadonlySet<string> => {
  const names = new Set<string>();
  for (const name of list(raw)) {
    if (!VARIABLE_NAME.test(name)) problems.add(UNRELATED, `${JSON.stringify(name)} is not a variable name`);
    else if ((GUARDED_VARIABLES as readonly string[]).includes(name) || (OTHER_VARIABLES as readonly string[]).includes(name)) {
      problems.add(UNRELATED, `${name} is a variable Hookwarden reads, so it cannot be unrelated`);
    } else names.add(name);
  }
  return names;
};

/**
 * One problem per set variable whose name is a near miss of a guarded one (or the same but for letter case) and
 * is neither a variable of Hookwarden's own, nor one a source names in `secretEnv` (`WEBHOOK_SCHEMA`, one edit from
 * `WEBHOOK_SCHEME`, may hold a secret), nor one {@link UNRELATED} lists (another app's `CORS_ORIGIN` in the same
 * shell or function).
 */
export const mistypedVariables = (problems: Problems, env: NodeJS.ProcessEnv, secretEnvs: readonly string[]): void => {
  const known = new Set<string>([...GUARDED_VARIABLES, ...OTHER_VARIABLES, ...secretEnvs, ...unrelatedVariables(problems, env[UNRELATED])]);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '' || known.has(name)) continue;
    const near = GUARDED_VARIABLES.filter((guarded) => nearEnough(name, guarded));
    if (near.length > 0) {
      problems.add(
        name,
        `is not a variable Hookwarden reads, so it is ignored; did you mean ${nearest(name, near)}? ` +
          `If it belongs to another program, list it in ${UNRELATED}`,
      );
    }
  }
};
