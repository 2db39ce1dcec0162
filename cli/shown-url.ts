import { REDACTED, withoutSecrets } from '../core/redaction.js';

/**
 * How long a path segment must be to be taken for a credential whatever its characters. A receiver's route is made of
 * short words (`/webhooks/github`, `/api/v2/hooks`); the token a receiver puts in its path is long (Slack's incoming
 * webhooks: 24 characters, Discord's: 68, IFTTT's: 22), and a long route name (`github-enterprise-prod`) costs only
 * its own display: the host and the short segments still say where a forward went.
 */
export const LONG_SEGMENT_CHARS = 16;

/**
 * How long a path segment that mixes letters and digits must be to be taken for a credential: ids and keys are written
 * so (Slack's `T0123ABCD`, a UUID, a 12-character key), words and versions (`v2`, `v1beta1`, `oauth2`) are shorter.
 */
export const MIXED_SEGMENT_CHARS = 8;

/**
 * Whether a URL's path segment (as written, percent escapes included) may be a credential: {@link LONG_SEGMENT_CHARS}
 * characters or more, or {@link MIXED_SEGMENT_CHARS} or more with both a letter and a digit.
 * @example credentialSegment('XXXXXXXXXXXXXXXXXXXXXXXX') // true
 * @example credentialSegment('webhooks') // false
 */
export const credentialSegment = (segment: string): boolean =>
  segment.length >= LONG_SEGMENT_CHARS || (segment.length >= MIXED_SEGMENT_CHARS && /[A-Za-z]/.test(segment) && /\d/.test(segment));

/**
 * A URL, or a reference such as a relative `Location`, in its parts: scheme and `//`, authority, path, query and
 * fragment. Textual, so that a URL too malformed to parse is split as well.
 */
const URL_PARTS = /^(?:([a-z][a-z0-9+.-]*:)?\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/is;

/** The query with every value replaced by `[redacted]`, names kept; a part without `=` is all value. */
const shownQuery = (query: string): string =>
  query
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      if (equals < 0) return part === '' ? '' : REDACTED;
      return equals === part.length - 1 ? part : `${part.slice(0, equals + 1)}${REDACTED}`;
    })
    .join('&');

/**
 * A receiver URL as the command line prints it (a forward's line, `to` in `--json`, `listen`'s banner, a failure):
 * scheme, host and port as given; `user:password@` as `[redacted]@`; every path segment that may be a credential
 * ({@link credentialSegment}) as `[redacted]`; every query value as `[redacted]`, names kept; a fragment as
 * `#[redacted]`. A token in the path (Slack's `…/services/T…/B…/<token>`) or in a query parameter with any name
 * (`?k=…`, `?code=…`) is never printed, and the operator still recognises the receiver by its host and short segments.
 * @example safeUrl('https://hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?k=abc') // 'https://hooks.example.com/services/T000/B000/[redacted]?k=[redacted]'
 * @example safeUrl('http://127.0.0.1:8080/webhooks/github') // 'http://127.0.0.1:8080/webhooks/github'
 */
export const safeUrl = (url: string): string => {
  const [, scheme, authority, path = '', query, fragment] = URL_PARTS.exec(url) ?? [];
  const at = authority?.lastIndexOf('@') ?? -1;
  const host = authority === undefined ? '' : `${scheme ?? ''}//${at < 0 ? authority : `${REDACTED}@${authority.slice(at + 1)}`}`;
  const segments = path.split('/').map((segment) => (credentialSegment(segment) ? REDACTED : segment));
  return `${host}${segments.join('/')}${query === undefined ? '' : `?${shownQuery(query)}`}${fragment ? `#${REDACTED}` : fragment === '' ? '#' : ''}`;
};

/**
 * A receiver URL as a message or an output line shows it ({@link safeUrl}: every query value, a path segment that may be
 * a token and `user:password@` as `[redacted]`), and without anything shaped like a secret: the output of `send`,
 * `listen` and `replay` lands in terminals and CI logs.
 * @example shownUrl('https://hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?v=2') // 'https://hooks.example.com/services/T000/B000/[redacted]?v=[redacted]'
 */
export const shownUrl = (url: string): string => withoutSecrets(safeUrl(url), []);

/**
 * A URL quoted in a text (an error's message): from `scheme://` to the first white space or quote, less a trailing
 * punctuation mark that ends the sentence (`…/in: ECONNREFUSED`, `'…/in'.`).
 */
const QUOTED_URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]*[^\s'"<>`.,:;!?)]/gi;

/**
 * `text` with every URL it quotes shown as {@link safeUrl} shows it: for a message that quotes a receiver URL in a
 * form of its own (fetch's `cause`, commander's refusal of an argument, a receiver's status text).
 * @example withSafeUrls("option '--to <url>' argument 'https://h.example.com:6000/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX' is invalid.") // "option '--to <url>' argument 'https://h.example.com:6000/T0/B0/[redacted]' is invalid."
 */
export const withSafeUrls = (text: string): string => text.replace(QUOTED_URL, safeUrl);

/**
 * The parts of `url` that {@link safeUrl} leaves out, as written and percent-decoded: a message may quote them
 * without the rest of the URL (a receiver echoing its request's path in its status text, a relative `Location`).
 */
export const urlCredentials = (url: string): string[] => {
  const [, , authority = '', path = '', query = '', fragment = ''] = URL_PARTS.exec(url) ?? [];
  const userinfo = authority.includes('@') ? authority.slice(0, authority.lastIndexOf('@')).split(':') : [];
  const values = query.split('&').map((part) => part.slice(part.indexOf('=') + 1));
  const raw = [...userinfo, ...path.split('/').filter(credentialSegment), ...values, fragment].filter((value) => value !== '');
  const decoded = raw.map((value) => {
    try {
      return decodeURIComponent(value.replaceAll('+', ' '));
    } catch {
      return value;
    }
  });
  return [...new Set([...raw, ...decoded])];
};
