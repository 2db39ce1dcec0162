import type { APIGatewayProxyEvent } from 'aws-lambda';
import { headerValuesFromEvent } from './headers.js';
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

/** Headers that carry a credential whatever the source's scheme: a read token, a proxy's, a session. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'] as const;

/** Query parameters named like a credential (`?token=`, `?access_token=`, `?api_key=`, `?sig=`): a client may put one there. */
const CREDENTIAL_PARAMETER = /token|key|secret|sig|auth|pass|session|code/i;

/** What {@link sensitiveValues} reads of the event. */
export type SensitiveEventParts = Pick<APIGatewayProxyEvent, 'body'> &
  Partial<Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters'>>;

/**
 * Everything about this request a log line must not carry: the source's secrets and key bytes (in the forms a
 * handler's own code could print them), the signature headers' values and the MACs in them, credential headers
 * (`Authorization` and the token in it, cookies) and query parameters named like one, and the body as received, as
 * bytes decoded to text, and JSON-escaped. Longest first, so a whole body goes before a part of it.
 */
export const sensitiveValues = (state: WebhookState, event: SensitiveEventParts | undefined): string[] => {
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
  if (event) {
    const headers = { headers: event.headers ?? {}, multiValueHeaders: event.multiValueHeaders ?? {} };
    for (const name of CREDENTIAL_HEADERS)
      for (const value of headerValuesFromEvent(headers, name) ?? []) {
        values.add(value);
        for (const run of value.match(MAC_RUN) ?? []) values.add(run);
      }
    const multi = event.multiValueQueryStringParameters ?? {};
    const single = event.queryStringParameters ?? {};
    for (const [name, list] of [...Object.entries(multi), ...Object.entries(single).map(([k, v]) => [k, [v]] as const)])
      if (CREDENTIAL_PARAMETER.test(name)) for (const value of list ?? []) if (typeof value === 'string') values.add(value);
  }
  if (typeof event?.body === 'string') values.add(event.body);
  if (state.body) {
    const text = state.body.toString('utf8');
    values.add(text);
    values.add(JSON.stringify(text).slice(1, -1));
  }
  return [...values].filter((value) => value.length >= MIN_CHARS).sort((a, b) => b.length - a.length);
};

/** The prefix of a provider's signing secret or token (`whsec_`, `shpss_`, `sk_live_`, `hwk_`, `ghp_`, `xoxb-`…), as regex source. */
export const PROVIDER_SECRET_PREFIX = String.raw`(?:whsec|shpss|shpat|shpca|shppa|sk_live|sk_test|rk_live|rk_test|hwk|ghp|gho|ghs|ghu|github_pat|xox[abposr])[_-]`;

/**
 * Text shaped like a credential whoever's it is: a provider's prefixed secret or token (`whsec_…`, `shpss_…`,
 * `sk_live_…`, `hwk_…`, `ghp_…`, `xoxb-…`), a run of 24 or more base64 characters mixing upper case, lower case
 * and digits (a random key: hostnames, names and words are not written so), or of 32 or more hex digits. `/` ends a
 * run, so that a path (`/Users/Jane2/...`) is never taken for one.
 */
const SECRET_SHAPED = new RegExp(
  String.raw`\b${PROVIDER_SECRET_PREFIX}[A-Za-z0-9+/=_-]{6,}|(?<![A-Za-z0-9+=_-])(?=[A-Za-z0-9+=_-]*[0-9])(?=[A-Za-z0-9+=_-]*[a-z])(?=[A-Za-z0-9+=_-]*[A-Z])[A-Za-z0-9+=_-]{24,}|(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])`,
  'g',
);

/** A URL's `user:password@` (or a lone user name, which may be a token): anything between `scheme://` and an `@` before the host ends. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"<>]*@/gi;

/** A query parameter named like a credential ({@link CREDENTIAL_PARAMETER}) and its value, in a URL quoted anywhere in a text. */
// The value ends before trailing punctuation (`?token=abc: ECONNREFUSED`), and one already redacted is left as it is.
const URL_CREDENTIAL_PARAMETER =
  /([?&;][^\s=&#'"<>]*(?:token|key|secret|sig|auth|pass|session|code)[^\s=&#'"<>]*=)(?!\[redacted\])(?:[^\s&#'"<>]*[^\s&#'"<>:,;.)\]])?/gi;

/**
 * `text` with the credentials of every URL it quotes left out: `https://user:pass@host` becomes
 * `https://[redacted]@host`, and `?token=…` (any parameter named like a credential) `?token=[redacted]`. The rest of
 * the URL stays, so a message still says where. Textual, so a URL too malformed to parse is covered as well.
 * @example withoutUrlCredentials('cannot reach https://u:p4ss@hooks.example.com/in?token=abc') // 'cannot reach https://[redacted]@hooks.example.com/in?token=[redacted]'
 */
export const withoutUrlCredentials = (text: string): string =>
  text.replace(URL_USERINFO, `$1${REDACTED}@`).replace(URL_CREDENTIAL_PARAMETER, `$1${REDACTED}`);

/**
 * `text` (a configuration problem, a command's message) without `known` secrets, whole or in part
 * ({@link redactText}), nor anything {@link SECRET_SHAPED}, nor a URL's credentials ({@link withoutUrlCredentials}):
 * a secret pasted into the wrong variable, or an origin given as `https://user:secret@host`, is not echoed by the
 * message that refuses it.
 * @example withoutSecrets('WEBHOOK_ALLOWED_IPS: "whsec_MfKQ9r8GKYqr" is not an IP address', []) // 'WEBHOOK_ALLOWED_IPS: "[redacted]" is not an IP address'
 */
export const withoutSecrets = (text: string, known: readonly string[]): string =>
  withoutUrlCredentials(
    redactText(
      text,
      known.filter((value) => value.length >= MIN_CHARS),
    ),
  ).replace(SECRET_SHAPED, REDACTED);

/**
 * How long a run of characters shared with one of the sensitive values must be to be left out of a log line: a part of
 * a secret, a MAC or the body that something quoted (a parser's excerpt, a slice a handler printed). Shorter runs are
 * kept: words and punctuation any two texts share.
 */
export const WINDOW_CHARS = 12;

// A rolling hash over UTF-16 code units, modulo 2^32 (Math.imul): exact, and no division per character.
const BASE = 131;
const LEAD = (() => {
  let power = 1;
  for (let i = 1; i < WINDOW_CHARS; i += 1) power = Math.imul(power, BASE);
  return power;
})();
const FILTER_BITS = 1 << 20;

/**
 * Which code units of `text` belong to a run of at least {@link WINDOW_CHARS} characters that also occurs in one of
 * `sensitive`: every window of `text` is hashed (a bit filter in front of the positions), then each sensitive value
 * is rolled through once, with no string made per position. O(length of `text` + total length of `sensitive`).
 */
const sharedRuns = (text: string, sensitive: readonly string[]): Uint8Array | undefined => {
  if (text.length < WINDOW_CHARS) return undefined;
  const filter = new Uint8Array(FILTER_BITS >>> 3);
  const starts = new Map<number, number[]>();
  let hash = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (i >= WINDOW_CHARS) hash = (hash - Math.imul(text.charCodeAt(i - WINDOW_CHARS), LEAD)) | 0;
    hash = (Math.imul(hash, BASE) + text.charCodeAt(i)) | 0;
    if (i < WINDOW_CHARS - 1) continue;
    const bit = hash & (FILTER_BITS - 1);
    filter[bit >>> 3] = (filter[bit >>> 3] as number) | (1 << (bit & 7));
    const list = starts.get(hash);
    if (list) list.push(i - WINDOW_CHARS + 1);
    else starts.set(hash, [i - WINDOW_CHARS + 1]);
  }
  let covered: Uint8Array | undefined;
  const matches = (value: string, from: number, at: number): boolean => {
    for (let k = 0; k < WINDOW_CHARS; k += 1) if (value.charCodeAt(from + k) !== text.charCodeAt(at + k)) return false;
    return true;
  };
  for (const value of sensitive) {
    hash = 0;
    for (let j = 0; j < value.length; j += 1) {
      if (j >= WINDOW_CHARS) hash = (hash - Math.imul(value.charCodeAt(j - WINDOW_CHARS), LEAD)) | 0;
      hash = (Math.imul(hash, BASE) + value.charCodeAt(j)) | 0;
      if (j < WINDOW_CHARS - 1) continue;
      const bit = hash & (FILTER_BITS - 1);
      if (((filter[bit >>> 3] as number) & (1 << (bit & 7))) === 0) continue;
      for (const at of starts.get(hash) ?? []) {
        if (!matches(value, j - WINDOW_CHARS + 1, at)) continue;
        covered ??= new Uint8Array(text.length);
        covered.fill(1, at, at + WINDOW_CHARS);
      }
    }
  }
  return covered;
};

/** `text` with its covered code units (a run of them) replaced by one `[redacted]` each. */
const withoutRuns = (text: string, covered: Uint8Array, from: number): string => {
  let result = '';
  for (let i = 0; i < text.length;) {
    let end = i;
    const hidden = covered[from + i] === 1;
    while (end < text.length && (covered[from + end] === 1) === hidden) end += 1;
    result += hidden ? REDACTED : text.slice(i, end);
    i = end;
  }
  return result;
};

/**
 * Each of `texts` with every occurrence of one of `sensitive` ({@link sensitiveValues}) replaced by `[redacted]`,
 * and every run of {@link WINDOW_CHARS} or more characters that occurs inside one of them too: a secret, a MAC or
 * the body quoted in part (`key MfKQ9r8GKYqrTwjU refused`, a parser's excerpt) is left out as well as a whole one.
 * The texts are looked through together, so the sensitive values are read once: about 15 ms for a 1 MiB body and
 * its encodings. It runs only when an error is logged or answered in detail, never on a request's normal path.
 */
const redactTexts = (texts: readonly string[], sensitive: readonly string[]): Map<string, string> => {
  const replaced = texts.map((text) => {
    let out = text;
    for (const secret of sensitive) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out;
  });
  // NUL between texts: a run across two of them would need a NUL in a sensitive value, and only hides more.
  const covered = sharedRuns(replaced.join('\u0000'), sensitive);
  const result = new Map<string, string>();
  let from = 0;
  texts.forEach((text, index) => {
    const out = replaced[index] as string;
    result.set(text, covered ? withoutRuns(out, covered, from) : out);
    from += out.length + 1;
  });
  return result;
};

/**
 * `text` as {@link redactForLog} leaves it: every occurrence of one of `sensitive`, and every part of one
 * {@link WINDOW_CHARS} characters or longer, replaced by `[redacted]`.
 * @example redactText('refused MfKQ9r8GKYqrTwjU (cut)', ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']) // 'refused [redacted] (cut)'
 */
export const redactText = (text: string, sensitive: readonly string[]): string =>
  sensitive.length === 0 ? text : (redactTexts([text], sensitive).get(text) as string);

/**
 * Whether an error's message is someone else's text about its input, which it may quote: a parser's
 * (`SyntaxError`: V8's JSON.parse quotes the text around the error; `URIError`), zlib's and Node's own (`Z_*`,
 * `ERR_*` codes: `ERR_INVALID_URL` keeps the URL as `input`), or an AWS SDK client's (`$metadata`: DynamoDB's
 * ValidationException can quote an attribute value, Secrets Manager's the secret id).
 */
const isForeign = (error: object, read: (key: string) => unknown): boolean => {
  const name = read('name');
  if (name === 'SyntaxError' || name === 'URIError') return true;
  const code = read('code');
  if (typeof code === 'string' && /^(Z_|ERR_)/.test(code)) return true;
  return read('$metadata') !== undefined || read('$fault') !== undefined;
};

/** Whether `error`'s message is a parser's, zlib's, Node's or the AWS SDK's ({@link RedactOptions.production}); never throws. */
export const isForeignError = (error: Error): boolean =>
  isForeign(error, (key) => {
    try {
      return (error as unknown as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  });

/** What a foreign error keeps in production besides its name and stack frames: what it is, never what it quoted. */
const FOREIGN_KEPT = new Set(['code', 'errno', 'syscall', '$fault', '$metadata', 'statusCode']);

/** Options of {@link redactForLog}. */
export interface RedactOptions {
  /**
   * Production (`config.production`): the message of a {@link isForeign parser's, zlib's, Node's or AWS SDK's
   * error} is withheld (`[withheld in production]`), with the attributes it carried but its code, errno, syscall,
   * `$fault` and `$metadata`; its stack keeps the frames. Such a message can quote request material that is not a
   * known value (V8 quotes 10 characters of a body; DynamoDB an attribute value it refused). @default false
   */
  readonly production?: boolean;
}

/** What a foreign error's message becomes in production. */
export const WITHHELD = '[withheld in production]';

/**
 * A copy of `value` (an error, usually: what a wrapped handler threw) fit for a log line: every occurrence of one of
 * `sensitive`, and every part of one of them {@link WINDOW_CHARS} characters or longer, in its message, stack, cause
 * and other attributes replaced by `[redacted]` ({@link redactText}), and bytes by their length. An error stays an
 * error (name, stack and cause intact, so the logger still formats and locates it). In production a foreign error's
 * message is withheld ({@link RedactOptions.production}).
 */
export const redactForLog = (value: unknown, sensitive: readonly string[], options: RedactOptions = {}): unknown => {
  if (sensitive.length === 0 && !options.production) return value;
  // Two passes: the first gathers every text the copy would carry, so that they are looked through together.
  const found = new Set<string>();
  const pass: { done?: Map<string, string> } = {};
  const text = (s: string): string => {
    if (sensitive.length === 0) return s;
    if (!pass.done) return (found.add(s), s);
    return pass.done.get(s) ?? redactText(s, sensitive);
  };
  let seen = new WeakSet<object>();
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
    const withheld = options.production === true && v instanceof Error && isForeign(v, (key) => read(v, key));
    if (v instanceof Error) {
      const name = text(String(read(v, 'name')));
      const message = String(read(v, 'message'));
      const error = new Error(withheld ? WITHHELD : text(message));
      // Own properties, so the logger reads them as it would the original's.
      const own = (key: string, value: unknown): void => {
        Object.defineProperty(error, key, { value, configurable: true, writable: true });
      };
      own('name', name);
      const stack = read(v, 'stack');
      // The frames of a withheld message's stack: everything from the first "    at " line (the message may span lines).
      const frames = (s: string): string => {
        const at = s.search(/\n\s+at /);
        return `${name}: ${WITHHELD}${at < 0 ? '' : s.slice(at)}`;
      };
      own('stack', typeof stack === 'string' ? (withheld ? text(frames(stack)) : text(stack)) : stack);
      const cause = read(v, 'cause');
      if (cause !== undefined) own('cause', copy(cause, depth + 1));
      out = error as unknown as Record<string, unknown>;
    } else {
      out = {};
    }
    for (const key of keys) {
      if (v instanceof Error && (key === 'message' || key === 'stack' || key === 'cause' || key === 'name')) continue;
      if (withheld && !FOREIGN_KEPT.has(key)) continue;
      out[key] = copy(read(v, key), depth + 1);
    }
    return out;
  };
  if (sensitive.length === 0) return copy(value, 0);
  copy(value, 0);
  pass.done = redactTexts([...found], sensitive);
  seen = new WeakSet<object>();
  return copy(value, 0);
};
