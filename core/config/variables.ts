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
  'HOOKWARDEN_READ_BUDGET',
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

/** Character classes a name is counted in: A-Z (either case), 0-9, `_`, anything else. */
const SLOTS = 38;

const slotOf = (code: number): number => {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 97;
  if (code >= 48 && code <= 57) return 26 + code - 48;
  return code === 95 ? 36 : 37;
};

/** How many of each character class a name has (letter case ignored). */
const countsOf = (name: string): Uint16Array => {
  const counts = new Uint16Array(SLOTS);
  for (let i = 0; i < name.length; i++) counts[slotOf(name.charCodeAt(i))]! += 1;
  return counts;
};

/**
 * A lower bound of the edit distance: the characters one name has and the other lacks, counted per class. It rules
 * out nearly every variable of a Lambda or a developer's shell before the full distance is computed: the check runs
 * at every cold start, so each name is counted once, and each guarded one once per process.
 */
const bagDistance = (a: Uint16Array, b: Uint16Array): number => {
  let surplus = 0;
  let lack = 0;
  for (let i = 0; i < SLOTS; i++) {
    const difference = a[i]! - b[i]!;
    if (difference > 0) surplus += difference;
    else lack -= difference;
  }
  return Math.max(surplus, lack);
};

let guardedCounts: ReadonlyArray<{ readonly name: string; readonly limit: number; readonly counts: Uint16Array }> | undefined;

/** The guarded names within {@link limitOf} edits of `name`, the cheap bounds first. */
const nearGuarded = (name: string): string[] => {
  guardedCounts ??= GUARDED_VARIABLES.map((known) => ({ name: known, limit: limitOf(known), counts: countsOf(known) }));
  let counts: Uint16Array | undefined;
  const near: string[] = [];
  for (const known of guardedCounts) {
    if (Math.abs(name.length - known.name.length) > known.limit) continue;
    counts ??= countsOf(name);
    if (bagDistance(counts, known.counts) <= known.limit && editDistance(name, known.name) <= known.limit) near.push(known.name);
  }
  return near;
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
    const near = nearGuarded(name);
    if (near.length > 0) {
      problems.add(
        name,
        `is not a variable Hookwarden reads, so it is ignored; did you mean ${nearest(name, near)}? ` +
          `If it belongs to another program, list it in ${UNRELATED}`,
      );
    }
  }
};
