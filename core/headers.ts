import type { APIGatewayProxyEvent } from 'aws-lambda';

/** Request headers by lower-case name; every value a client sent, in order. */
export type HeaderMap = ReadonlyMap<string, readonly string[]>;

/**
 * Collects an API Gateway REST proxy event's headers into a {@link HeaderMap}.
 * `multiValueHeaders` wins when present (it keeps duplicates); names are
 * case-insensitive, so they are lower-cased here once.
 */
export const headerMapFromEvent = (event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>): HeaderMap => {
  const map = new Map<string, string[]>();
  const multi = event.multiValueHeaders;
  if (multi && Object.keys(multi).length > 0) {
    for (const [name, values] of Object.entries(multi)) {
      if (!values) continue;
      const key = name.toLowerCase();
      const list = map.get(key);
      if (list) list.push(...values);
      else map.set(key, [...values]);
    }
    return map;
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }
  return map;
};

/**
 * The single value of a header, or `undefined` when absent. Several copies with
 * different values are ambiguous and return `null`, which callers treat as invalid.
 */
export const singleHeader = (headers: HeaderMap, name: string): string | undefined | null => {
  const values = headers.get(name);
  if (values === undefined || values.length === 0) return undefined;
  const first = values[0] as string;
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return null;
  return first;
};
