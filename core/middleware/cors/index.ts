import { HttpError } from '../../errors.js';
import { headerMapFromEvent, singleHeader } from '../../headers.js';
import { withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

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
  const origin = singleHeader(headerMapFromEvent(event), 'origin');
  return typeof origin === 'string' && origins.has(origin) ? origin : undefined;
};

/** The response header's name as the response spells it, whatever the case. */
const nameIn = (headers: Readonly<Record<string, unknown>>, name: string): string | undefined => {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((key) => key.toLowerCase() === lower);
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
  const options = withDefaults(defaults, opts);
  if (options.origins.some((origin) => origin.includes('*'))) throw new Error('CORS origins must be exact; "*" is refused');
  const origins = new Set(options.origins);
  const fixed = {
    'Access-Control-Allow-Methods': options.methods.join(', '),
    'Access-Control-Allow-Headers': options.headers.join(', '),
    'Access-Control-Max-Age': String(options.maxAgeSeconds),
  };

  const corsPolicyAfter = async (request: HttpRequest): Promise<void> => {
    if (!request.response) return;
    const headers: Record<string, string | number | boolean> = { ...request.response.headers };
    for (const [name, value] of Object.entries(fixed)) if (!nameIn(headers, name)) headers[name] = value;
    const origin = allowedOriginOf(origins, request.event);
    if (origin && !nameIn(headers, 'Access-Control-Allow-Origin')) headers['Access-Control-Allow-Origin'] = origin;
    const vary = nameIn(headers, 'Vary');
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
