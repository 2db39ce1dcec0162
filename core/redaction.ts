import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { WebhookState } from './middleware/types.js';

/** What a log line carries in place of a value it must not. */
export const REDACTED = '[redacted]';

/** Shorter values are not looked for: too common to be telling, and replacing them would garble the rest. */
const MIN_CHARS = 8;

/** How deep an error's causes and attributes are followed. */
const MAX_DEPTH = 6;

/** A run of base64, base64url or hex long enough to be a MAC, inside a signature header's value. */
const MAC_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;

// Keyed by the request's state, so a request's keys never reach another request, nor its handler through the context.
const keysByState = new WeakMap<WebhookState, readonly string[]>();

/**
 * The forms of a source's secrets a handler's own code could print: each secret as configured, the part after a
 * `whsec_`-style prefix, and the decoded key bytes as base64, base64url and hex. Computed once per key set.
 */
export const keyForms = (secrets: readonly string[], keys: readonly Buffer[]): readonly string[] => {
  const forms = new Set<string>(secrets);
  for (const secret of secrets) {
    const prefixed = /^[a-z]{2,10}_(.+)$/.exec(secret);
    if (prefixed) forms.add(prefixed[1] as string);
  }
  for (const key of keys) {
    forms.add(key.toString('base64'));
    forms.add(key.toString('base64url'));
    forms.add(key.toString('hex'));
  }
  return [...forms];
};

/**
 * Remembers the source's {@link keyForms} for this request, so that a log line about it can leave them out
 * ({@link sensitiveValues}). The signature verifier calls it once it has loaded the source's keys.
 */
export const rememberKeys = (state: WebhookState, forms: readonly string[]): void => {
  keysByState.set(state, forms);
};

/**
 * Everything about this request a log line must not carry: the source's secrets and key bytes (in the forms a
 * handler's own code could print them), the signature headers' values and the MACs in them, and the body as
 * received, as bytes decoded to text, and JSON-escaped. Longest first, so a whole body goes before a part of it.
 */
export const sensitiveValues = (state: WebhookState, event: Pick<APIGatewayProxyEvent, 'body'> | undefined): string[] => {
  const values = new Set<string>(keysByState.get(state) ?? []);
  const names = state.source?.scheme.signatureHeaders;
  for (const [name, list] of state.headers ?? []) {
    // A scheme that does not say where its signature travels (a custom one): every header is looked through.
    if (names && !names.includes(name)) continue;
    for (const value of list) {
      values.add(value);
      for (const run of value.match(MAC_RUN) ?? []) values.add(run);
    }
  }
  if (typeof event?.body === 'string') values.add(event.body);
  if (state.body) {
    const text = state.body.toString('utf8');
    values.add(text);
    values.add(JSON.stringify(text).slice(1, -1));
  }
  return [...values].filter((value) => value.length >= MIN_CHARS).sort((a, b) => b.length - a.length);
};

/**
 * A copy of `value` (an error, usually: what a wrapped handler threw) fit for a log line: every occurrence of one of
 * `sensitive` in its message, stack, cause and other attributes replaced by `[redacted]`, and bytes by their length.
 * An error stays an error (name, stack and cause intact, so the logger still formats and locates it).
 */
export const redactForLog = (value: unknown, sensitive: readonly string[]): unknown => {
  if (sensitive.length === 0) return value;
  const text = (s: string): string => {
    let out = s;
    for (const secret of sensitive) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out;
  };
  const seen = new WeakSet<object>();
  // A getter that throws, or a Proxy: what was thrown is logged whatever it is made of, never fails the log line.
  const read = (from: object, key: string): unknown => {
    try {
      return (from as Record<string, unknown>)[key];
    } catch {
      return '[unreadable]';
    }
  };
  const copy = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
    if (seen.has(v) || depth > MAX_DEPTH) return '[…]';
    seen.add(v);
    let keys: string[];
    try {
      if (Array.isArray(v)) return v.map((item) => copy(item, depth + 1));
      keys = Object.keys(v);
    } catch {
      return '[unreadable]';
    }
    let out: Record<string, unknown>;
    if (v instanceof Error) {
      const error = new Error(text(String(read(v, 'message'))));
      // Own properties, so the logger reads them as it would the original's.
      const own = (key: string, value: unknown): void => {
        Object.defineProperty(error, key, { value, configurable: true, writable: true });
      };
      own('name', text(String(read(v, 'name'))));
      const stack = read(v, 'stack');
      own('stack', typeof stack === 'string' ? text(stack) : stack);
      const cause = read(v, 'cause');
      if (cause !== undefined) own('cause', copy(cause, depth + 1));
      out = error as unknown as Record<string, unknown>;
    } else {
      out = {};
    }
    for (const key of keys) {
      if (v instanceof Error && (key === 'message' || key === 'stack' || key === 'cause' || key === 'name')) continue;
      out[key] = copy(read(v, key), depth + 1);
    }
    return out;
  };
  return copy(value, 0);
};
