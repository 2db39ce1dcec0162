import { HttpError } from '../../errors.js';
import { headerMapFromEvent, headerValuesFromEvent, singleHeader, singleValue } from '../../headers.js';
import { requireWholeNumbers, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link corsPolicy}. */
export interface CorsPolicyOptions {
  /** Exact origins; empty allows none. */
  readonly origins: readonly string[];
  /** @default ['GET', 'POST', 'OPTIONS'] */
  readonly methods?: readonly string[];
  /** Request headers a browser may send. @default ['content-type'] plus the webhook headers */
  readonly headers?: readonly string[];
  /** Preflight cache, seconds. @default 600 */
  readonly maxAgeSeconds?: number;
}

const defaults: Required<Omit<CorsPolicyOptions, 'origins'>> = {
  methods: ['GET', 'POST', 'OPTIONS'],
  headers: ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'],
  maxAgeSeconds: 600,
};

/** The allowed origin a request names, or `undefined`: one exact `Origin` (header name in any case) that is configured. */
const allowedOriginOf = (origins: ReadonlySet<string>, event: HttpRequest['event']): string | undefined => {
  // A Set, not an object: `__proto__` or `constructor` is not an origin.
  const origin = singleValue(headerValuesFromEvent(event, 'origin'));
  return typeof origin === 'string' && origins.has(origin) ? origin : undefined;
};

/** The response's header names by their lower-case form, as the response spells them (the first spelling wins). */
const namesOf = (headers: Readonly<Record<string, unknown>>): Map<string, string> => {
  const names = new Map<string, string>();
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    if (!names.has(lower)) names.set(lower, key);
  }
  return names;
};

/**
 * CORS locked to exact origins (never `*`), on success and error responses
 * alike: `Access-Control-Allow-Origin` echoes the request's `Origin` only when
 * it is exactly one of `origins`; `Vary: Origin` on every response, once.
 * (Our own rather than `@middy/http-cors` 6, which matched origins through a
 * plain object, read only `Origin`/`origin`, and repeated `Vary: Origin` when
 * several origins were configured.)
 */
export const corsPolicy = (opts: CorsPolicyOptions): HttpMiddleware => {
  requireWholeNumbers('corsPolicy', opts, { maxAgeSeconds: [0, 86_400] });
  const options = withDefaults(defaults, opts);
  if (options.origins.some((origin) => origin.includes('*'))) throw new Error('CORS origins must be exact; "*" is refused');
  const origins = new Set(options.origins);
  const fixed = Object.entries({
    'Access-Control-Allow-Methods': options.methods.join(', '),
    'Access-Control-Allow-Headers': options.headers.join(', '),
    'Access-Control-Max-Age': String(options.maxAgeSeconds),
  }).map(([name, value]) => [name, name.toLowerCase(), value] as const);

  const corsPolicyAfter = async (request: HttpRequest): Promise<void> => {
    if (!request.response) return;
    const headers: Record<string, string | number | boolean> = { ...request.response.headers };
    const names = namesOf(headers);
    for (const [name, lower, value] of fixed) if (!names.has(lower)) headers[name] = value;
    const origin = allowedOriginOf(origins, request.event);
    if (origin && !names.has('access-control-allow-origin')) headers['Access-Control-Allow-Origin'] = origin;
    const vary = names.get('vary');
    if (!vary) headers.Vary = 'Origin';
    else if (
      !String(headers[vary])
        .split(',')
        .some((token) => ['origin', '*'].includes(token.trim().toLowerCase()))
    )
      headers[vary] = `${String(headers[vary])}, Origin`;
    request.response.headers = headers;
  };
  return { after: corsPolicyAfter, onError: corsPolicyAfter };
};

/**
 * Handles a CORS preflight: 204 when the origin is allowed and the requested
 * method and headers are on the allowlists, else 403 `cors_preflight_denied`
 * (the CORS middleware adds the headers to whichever answer). Every
 * `Access-Control-Request-Headers` line counts: one unlisted header on any
 * line refuses the preflight.
 */
export const preflightHandler = (opts: CorsPolicyOptions) => {
  requireWholeNumbers('preflightHandler', opts, { maxAgeSeconds: [0, 86_400] });
  const options = withDefaults(defaults, opts);
  const origins = new Set(options.origins);
  const methods = new Set(options.methods);
  const headers = new Set(options.headers.map((h) => h.toLowerCase()));
  return async (event: HttpRequest['event']) => {
    const map = headerMapFromEvent(event);
    const method = singleHeader(map, 'access-control-request-method');
    const requested = (map.get('access-control-request-headers') ?? [])
      .flatMap((line) => line.split(','))
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0);
    if (!allowedOriginOf(origins, event)) throw new HttpError(403, 'cors_preflight_denied', 'Origin not allowed.');
    if (!method || !methods.has(method)) throw new HttpError(403, 'cors_preflight_denied', 'Method not allowed by CORS.');
    const extra = requested.find((h) => !headers.has(h));
    if (extra) throw new HttpError(403, 'cors_preflight_denied', 'Request header not allowed by CORS.');
    return { statusCode: 204, headers: {}, body: '' };
  };
};
