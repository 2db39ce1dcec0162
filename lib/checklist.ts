import { describeInvalidOrigin } from '../functions/shared/config';
import { functionConfigDocument } from './constructs/webhook-functions';
import type { DeploymentSettings } from './settings';

/** Lambda's limit on all of a function's environment variables together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** The other variables (names and values, table names at their longest) beside the config document. */
const OTHER_VARIABLES_BYTES = 640;
/** A secret ARN at its longest for a generated secret (long region, CDK-generated name, suffix). */
const LONGEST_SECRET_ARN = `arn:aws-us-gov:secretsmanager:ap-southeast-2:123456789012:secret:${'S'.repeat(40)}-${'s'.repeat(12)}-AbCdEf`;

/**
 * The items of the hardening guide's "Production Deployment Checklist" that a
 * synth can check, by the name each failure is reported under.
 */
export const CHECKLIST_ITEMS = ['CORS origins', 'Alarms', 'Secrets', 'Debug', 'WAF'] as const;

/** One of {@link CHECKLIST_ITEMS}. */
export type ChecklistItem = (typeof CHECKLIST_ITEMS)[number];

const item = (name: ChecklistItem, problem: string): string => `${name}: ${problem}`;

/** Origins the function itself would refuse at cold start (any stage): wildcards, paths, non-origins. */
const invalidOrigins = (settings: DeploymentSettings): string[] =>
  settings.corsOrigins.flatMap((origin) => {
    const problem = describeInvalidOrigin(origin);
    return problem ? [item('CORS origins', problem)] : [];
  });

/**
 * Sources whose secret cannot be provisioned: no `secretArn` and
 * `"generateSecret": false`. The function refuses to start without a secret
 * for every source (fail closed), so this is refused in every stage.
 */
const sourcesWithoutSecret = (settings: DeploymentSettings): string[] =>
  settings.sources
    .filter((source) => !source.secretArn && !source.generateSecret)
    .map((source) => item('Secrets', `source "${source.name}" has no secret ("generateSecret": false and no "secretArn")`));

/**
 * The config document travels in an environment variable; past Lambda's 4 KB
 * the deploy would fail late, in CloudFormation. Estimated with the longest
 * secret ARNs, so it refuses early rather than never.
 */
const environmentTooLarge = (settings: DeploymentSettings): string[] => {
  const document = functionConfigDocument(settings.sources, (name) => settings.sources.find((s) => s.name === name)?.secretArn ?? LONGEST_SECRET_ARN, settings.corsOrigins, settings.trustedProxies, settings.acceptRisks ?? []);
  const bytes = Buffer.byteLength(JSON.stringify(document)) + OTHER_VARIABLES_BYTES;
  return bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES
    ? [`Configuration: about ${bytes} bytes of function environment for ${settings.sources.length} sources; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} (deploy fewer sources per stack, or shorten allowedIps lists)`]
    : [];
};

/**
 * The production deployment checklist, executable: every failing item, by
 * name. Empty means the configuration may ship.
 */
export const productionChecklist = (settings: DeploymentSettings): string[] => {
  const failing: string[] = [];
  if (settings.corsOrigins.length === 0) failing.push(item('CORS origins', 'none configured (context corsOrigins, or corsOrigins in the config file)'));
  failing.push(...invalidOrigins(settings));
  for (const origin of settings.corsOrigins) {
    if (!describeInvalidOrigin(origin) && !origin.startsWith('https://')) failing.push(item('CORS origins', `"${origin}" is not https`));
  }
  if (!settings.alarmEmail) failing.push(item('Alarms', 'no alarmEmail (context alarmEmail) to notify'));
  failing.push(...sourcesWithoutSecret(settings));
  if (settings.debug) failing.push(item('Debug', 'debug is on (context debug); production answers must be generic'));
  if (!settings.wafEnabled && !settings.wafDisabledReason) {
    failing.push(item('WAF', 'disabled without an acknowledgement (context wafDisabledReason="<why it is safe>")'));
  }
  return failing;
};

/**
 * What refuses a synth of this stage: in prod the whole checklist; in dev
 * only what would stop the deployed function from starting (and, in both, a
 * configuration too large for the function's environment).
 */
export const stageProblems = (settings: DeploymentSettings): string[] => [
  ...(settings.stage === 'prod' ? productionChecklist(settings) : [...invalidOrigins(settings), ...sourcesWithoutSecret(settings)]),
  ...environmentTooLarge(settings),
];
