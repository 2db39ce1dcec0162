import type { Duration } from 'aws-cdk-lib';
import type { Problems } from '../../core/config/rules.js';

/** How a prop's value is quoted in a problem: text in quotes, anything else as JavaScript prints it (`NaN`, `-1`). */
const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/**
 * Checks a construct's number prop: unset (its default), or a whole number from `min` to `max`. From JavaScript, or
 * computed, a prop may be `NaN`, negative, zero, fractional or text: deployed as given, CloudFormation or the service
 * refuses it midway through the deploy, or (a zero throttle or reservation) it silently refuses every request. Each
 * bad prop is one problem, so the construct reports them all at once (`ConfigError`), as the configuration does.
 */
export const wholeNumberProp = (problems: Problems, where: string, value: unknown, min: number, max: number): void => {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    problems.add(where, `must be a whole number from ${min} to ${max}, got ${shown(value)}`);
};

/** {@link wholeNumberProp} for a `Duration` prop, in seconds (`NaN` and a fraction of a second are refused with the others, not by CDK alone). */
export const durationSecondsProp = (problems: Problems, where: string, value: Duration | undefined, min: number, max: number): void => {
  if (value === undefined) return;
  let seconds: number;
  try {
    seconds = value.toMilliseconds() / 1000;
  } catch {
    seconds = Number.NaN;
  }
  if (!Number.isInteger(seconds) || seconds < min || seconds > max)
    problems.add(where, `must be a whole number of seconds from ${min} to ${max}, got ${value.toString()}`);
};

/**
 * Checks a construct's boolean prop: unset (its default), `true` or `false`. From JavaScript a flag may arrive as text
 * (`debug: process.env.DEBUG`), and `'false'` is truthy: it turned `DEBUG` on, or kept `production` on, instead of
 * being refused.
 */
export const booleanProp = (problems: Problems, where: string, value: unknown): void => {
  if (value !== undefined && typeof value !== 'boolean') problems.add(where, `must be true or false, got ${shown(value)}`);
};
