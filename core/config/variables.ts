import { TABLES } from '../stores/tables.js';
import { editDistance, nearest } from './keys.js';
import { SINGLE_SOURCE_VARIABLES } from './model.js';
import type { Problems } from './rules.js';

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
  ...TABLES.map((table) => table.tableNameEnv),
] as const;

/** How far a name may be from a guarded one to read as its typo: 2 edits, 3 for the long names (`TRUSTED_PROXY`). */
const nearEnough = (name: string, known: string): boolean => editDistance(name, known) <= (known.length >= 15 ? 3 : 2);

/**
 * One problem per set variable whose name is a near miss of a guarded one (or the same but for letter case) and
 * is neither a variable of Hookwarden's own nor one a source names in `secretEnv` (`WEBHOOK_SECRET_2`).
 */
export const mistypedVariables = (problems: Problems, env: NodeJS.ProcessEnv, secretEnvs: readonly string[]): void => {
  const known = new Set<string>([...GUARDED_VARIABLES, ...OTHER_VARIABLES, ...secretEnvs]);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '' || known.has(name)) continue;
    const near = nearest(name, GUARDED_VARIABLES);
    if (nearEnough(name, near)) problems.add(name, `is not a variable Hookwarden reads, so it is ignored; did you mean ${near}?`);
  }
};
