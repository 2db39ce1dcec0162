/**
 * A matcher for the subset of EventBridge event-pattern semantics the stack
 * uses, so a test can run real event shapes through a synthesized rule.
 * Semantics, as documented in the EventBridge user guide ("Event patterns",
 * "Content filtering"):
 *
 * - Every field named in the pattern must match; fields the pattern does not
 *   name are ignored.
 * - A nested object in the pattern matches a nested object in the event.
 * - A leaf is an array of values, any of which may match (OR). When the event's
 *   value is an array, the leaf matches if any element matches.
 * - Values: an exact string, number, boolean or null; `{ prefix: "s" }`;
 *   `{ "anything-but": value | [values] }` (the field must be present and
 *   differ from every value); `{ exists: true | false }`.
 * - A field the event lacks matches only `{ exists: false }`: `anything-but`
 *   on a missing field does not match.
 * - `"$or": [pattern, ...]` beside other fields: at least one sub-pattern
 *   matches (and the other fields too).
 *
 * Anything else (suffix, numeric, wildcard, equals-ignore-case, ...) throws,
 * so an unsupported pattern can never pass a test by accident.
 */
export const matchesPattern = (pattern: Record<string, unknown>, event: unknown): boolean =>
  Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as Array<Record<string, unknown>>).some((alternative) => matchesPattern(alternative, event));
    const present = typeof event === 'object' && event !== null && !Array.isArray(event) && Object.hasOwn(event, key);
    const actual = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) return expected.some((value) => matchesValue(value, present, actual));
    // A missing parent: its fields are all missing, which only `exists: false` accepts.
    if (typeof expected === 'object' && expected !== null) return matchesPattern(expected as Record<string, unknown>, actual);
    throw new Error(`pattern field "${key}" must be an array or an object, got ${JSON.stringify(expected)}`);
  });

const isScalar = (value: unknown): boolean => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** One leaf value against the event's field (`present` false: the event lacks it). */
const matchesValue = (value: unknown, present: boolean, actual: unknown): boolean => {
  if (isScalar(value)) return present && [actual].flat().some((a) => a === value);
  const [operator, argument, ...more] = Object.entries(value as Record<string, unknown>).flat();
  if (more.length > 0) throw new Error(`one operator per value, got ${JSON.stringify(value)}`);
  if (operator === 'exists') return argument === present;
  if (!present) return false;
  const actuals = [actual].flat();
  if (operator === 'prefix' && typeof argument === 'string') return actuals.some((a) => typeof a === 'string' && a.startsWith(argument));
  if (operator === 'anything-but' && (isScalar(argument) || (Array.isArray(argument) && argument.every(isScalar)))) {
    if (Array.isArray(actual)) throw new Error('anything-but on an array field is not supported');
    return isScalar(actual) && ![argument].flat().includes(actual);
  }
  throw new Error(`unsupported pattern value ${JSON.stringify(value)}`);
};
