import { PRESET_NAMES, resolveScheme } from '../functions/shared/schemes';
import { describeInvalidOrigin } from '../functions/shared/config';
import { describeInvalidRange } from '../functions/shared/net';
import { parseRateLimit } from '../functions/shared/rate-limit/sliding-window';
import type { DeploymentSettings } from './settings';

/** Problems that make any synth invalid (dev or prod). */
export const configurationProblems = (settings: DeploymentSettings): string[] => {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const source of settings.sources) {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(source.name)) problems.push(`source "${source.name}": name must be lower-case letters, digits, "-" or "_"`);
    if (names.has(source.name)) problems.push(`source "${source.name}": listed twice`);
    names.add(source.name);
    if (!PRESET_NAMES.includes(source.scheme)) problems.push(`source "${source.name}": unknown scheme "${source.scheme}"`);
    else {
      try {
        resolveScheme(source.scheme, source.hmac);
      } catch (error) {
        problems.push(`source "${source.name}": ${(error as Error).message}`);
      }
    }
    for (const [key, value] of [['rateLimit', source.rateLimit], ['clientRateLimit', source.clientRateLimit]] as const) {
      const parsed = value === undefined ? undefined : parseRateLimit(value);
      if (typeof parsed === 'string') problems.push(`source "${source.name}" ${key}: ${parsed}`);
    }
    for (const entry of source.allowedIps) {
      const problem = describeInvalidRange(entry);
      if (problem) problems.push(`source "${source.name}" allowedIps: ${problem}`);
    }
  }
  if (!Number.isInteger(settings.wafRateLimitPer5Minutes) || settings.wafRateLimitPer5Minutes < 10) {
    problems.push(`wafRateLimit: must be a whole number of requests per 5 minutes, at least 10 (got ${settings.wafRateLimitPer5Minutes})`);
  }
  for (const entry of settings.trustedProxies) {
    const problem = describeInvalidRange(entry);
    if (problem) problems.push(`trustedProxies: ${problem}`);
  }
  return problems;
};

/**
 * The hardening guide's production deployment checklist, executable: every
 * item that fails, by name. Empty means the configuration may ship.
 */
export const productionChecklist = (settings: DeploymentSettings): string[] => {
  const failing: string[] = [];
  if (settings.corsOrigins.length === 0) failing.push('CORS origins: none configured (context corsOrigins or the config file\'s corsOrigins)');
  for (const origin of settings.corsOrigins) {
    const problem = describeInvalidOrigin(origin);
    if (problem) failing.push(`CORS origins: ${problem}`);
    else if (!origin.startsWith('https://')) failing.push(`CORS origins: "${origin}" is not https`);
  }
  if (!settings.alarmEmail) failing.push('Alarms: no alarmEmail (context alarmEmail) to notify');
  for (const source of settings.sources) {
    if (!source.secretArn && !source.generateSecret) {
      failing.push(`Secrets: source "${source.name}" has no secret (generateSecret is false and no secretArn is set)`);
    }
  }
  if (settings.debug) failing.push('Debug: debug is on (context debug); production answers must be generic');
  if (!settings.wafEnabled && !settings.wafDisabledAcknowledged) failing.push('WAF: disabled without an acknowledgement (context wafDisabledReason)');
  return failing;
};
