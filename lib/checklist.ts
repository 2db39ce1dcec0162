import { rotationFromDescription } from '../core/config/rotation.js';
import type { DeploymentSettings } from './settings.js';

/**
 * The items of the hardening guide's "Production Deployment Checklist" that a
 * synth can check, by the name each failure is reported under.
 */
export const CHECKLIST_ITEMS = ['CORS origins', 'Alarms', 'Secrets', 'Debug', 'WAF', 'Audit trail', 'Rotation'] as const;

/** One of {@link CHECKLIST_ITEMS}. */
export type ChecklistItem = (typeof CHECKLIST_ITEMS)[number];

const item = (name: ChecklistItem, problem: string): string => `${name}: ${problem}`;

/**
 * Sources whose secret cannot be provisioned: no `secretArn` and
 * `"generateSecret": false`. The function refuses to start without a secret
 * for every source (fail closed), so this is refused in every stage.
 */
const sourcesWithoutSecret = (settings: DeploymentSettings): string[] =>
  settings.sources
    .filter((source) => !source.secretArn && !source.generateSecret)
    .map((source) => item('Secrets', `source "${source.name}" has no secret ("generateSecret": false and no "secretArn")`));

/** The longest rotation period production accepts: every key changes at least once a year. */
export const MAX_PRODUCTION_ROTATION_DAYS = 365;

/**
 * The guide's "configure secrets rotation schedule": every source's key has a
 * due date of at most a year, or rotation is switched off with a written reason.
 */
const rotationProblems = (settings: DeploymentSettings): string[] =>
  settings.sources.flatMap((source) => {
    const rotation = rotationFromDescription(source.rotation, source.scheme);
    if (rotation.mode === 'off') {
      return rotation.reason
        ? []
        : [
            item(
              'Rotation',
              `source "${source.name}" has rotation off without a reason (add "reason": "<why this key never rotates>" to its rotation block)`,
            ),
          ];
    }
    return rotation.everySeconds > MAX_PRODUCTION_ROTATION_DAYS * 86_400
      ? [item('Rotation', `source "${source.name}" rotates every ${rotation.every}, more than ${MAX_PRODUCTION_ROTATION_DAYS}d`)]
      : [];
  });

/**
 * The production deployment checklist, executable: every failing item, by
 * name. Empty means the configuration may ship.
 */
export const productionChecklist = (settings: DeploymentSettings): string[] => {
  const failing: string[] = [];
  if (settings.corsOrigins.length === 0)
    failing.push(item('CORS origins', 'none configured (context corsOrigins, or corsOrigins in the config file)'));
  // The parser accepts exact http and https origins only (and has refused anything else): production wants https.
  for (const origin of settings.corsOrigins) {
    if (origin.startsWith('http://')) failing.push(item('CORS origins', `"${origin}" is not https`));
  }
  if (!settings.alarmEmail) failing.push(item('Alarms', 'no alarmEmail (context alarmEmail) to notify'));
  failing.push(...sourcesWithoutSecret(settings));
  if (settings.debug) failing.push(item('Debug', 'debug is on (context debug); production answers must be generic'));
  if (!settings.wafEnabled && !settings.wafDisabledReason) {
    failing.push(
      item(
        'WAF',
        settings.frontDoor === 'http-api'
          ? 'frontDoor=http-api cannot carry a WAF: acknowledge running without one (context wafDisabledReason="<why it is safe>"), or use frontDoor=rest'
          : 'disabled without an acknowledgement (context wafDisabledReason="<why it is safe>")',
      ),
    );
  }
  if (settings.cloudTrail === 'none') {
    failing.push(
      item(
        'Audit trail',
        'cloudTrail=none: no trail logs management events, so no secret read is ever alerted on (cloudTrail=create, or cloudTrail=existing when the account has one)',
      ),
    );
  }
  failing.push(...rotationProblems(settings));
  return failing;
};

/** CloudFormation's limit on the outputs of one stack: a template with more is refused at deploy. */
export const CLOUDFORMATION_MAX_OUTPUTS = 200;

/** The stack's outputs that do not depend on the sources, at most: the REST API's endpoint, `ApiUrl`, three tables, the alarm topic, two WAF IP sets (an HTTP API stack has six: `ApiUrl`, `FrontDoor`, three tables, the topic). */
const FIXED_OUTPUTS = 8;

/** The most sources one stack holds: each adds two outputs (`WebhookUrl<source>`, `SecretArn<source>`). */
export const MAX_SOURCES_PER_STACK = Math.floor((CLOUDFORMATION_MAX_OUTPUTS - FIXED_OUTPUTS) / 2);

/** More sources than one stack's outputs hold: refused at synth, rather than by CloudFormation at deploy. */
const tooManySources = (settings: DeploymentSettings): string[] =>
  settings.sources.length > MAX_SOURCES_PER_STACK
    ? [
        `sources: ${settings.sources.length} sources need up to ${FIXED_OUTPUTS + 2 * settings.sources.length} stack outputs and CloudFormation allows ${CLOUDFORMATION_MAX_OUTPUTS}: one stack holds at most ${MAX_SOURCES_PER_STACK} sources`,
      ]
    : [];

/**
 * What refuses a synth of this stage beyond the configuration's own problems
 * (the parser's, in `readSettings`): in prod the whole checklist; in dev only
 * a source the stack cannot give a secret. In every stage, more sources than
 * one stack's outputs hold ({@link MAX_SOURCES_PER_STACK}); the environment
 * sets no limit (the configuration ships in the bundle, not in the 4 KB environment).
 */
export const stageProblems = (settings: DeploymentSettings): string[] => [
  ...tooManySources(settings),
  ...(settings.stage === 'prod' ? productionChecklist(settings) : sourcesWithoutSecret(settings)),
];
