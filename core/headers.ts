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
 * Every value of one header in an event, as `headerMapFromEvent(event).get(name)`
 * gives them, without building the whole map: for code that reads one header
 * (CORS and the origin guard read `Origin`, the read token `Authorization`).
 * @param name the header name in lower case
 */
export const headerValuesFromEvent = (
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  name: string,
): readonly string[] | undefined => {
  let found: string[] | undefined;
  const multi = event.multiValueHeaders;
  let multiUsed = false;
  if (multi) {
    for (const key in multi) {
      if (!Object.hasOwn(multi, key)) continue;
      multiUsed = true;
      const values = multi[key];
      if (!values || key.length !== name.length || key.toLowerCase() !== name) continue;
      (found ??= []).push(...values);
    }
  }
  if (multiUsed) return found;
  const single = event.headers ?? {};
  for (const key in single) {
    if (!Object.hasOwn(single, key)) continue;
    const value = single[key];
    if (value === undefined || key.length !== name.length || key.toLowerCase() !== name) continue;
    (found ??= []).push(value);
  }
  return found;
};

/** The single value among `values`: `undefined` when there is none, `null` when they differ. */
export const singleValue = (values: readonly string[] | undefined): string | undefined | null => {
  if (values === undefined || values.length === 0) return undefined;
  const first = values[0] as string;
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return null;
  return first;
};

/**
 * The single value of a header, or `undefined` when absent. Several copies with
 * different values are ambiguous and return `null`, which callers treat as invalid.
 */
export const singleHeader = (headers: HeaderMap, name: string): string | undefined | null => singleValue(headers.get(name));
