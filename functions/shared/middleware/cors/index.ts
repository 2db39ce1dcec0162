import httpCors from '@middy/http-cors';
import { HttpError } from '../../errors';
import { headerMapFromEvent, singleHeader } from '../../headers';
import type { HttpMiddleware, HttpRequest } from '../types';

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

const defaults = {
  methods: ['GET', 'POST', 'OPTIONS'],
  headers: ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'],
  maxAgeSeconds: 600,
} as const;

/**
 * CORS locked to exact origins via `@middy/http-cors` (never `*`; `Vary: Origin`
 * always), on success and error responses alike.
 */
export const corsPolicy = (options: CorsPolicyOptions): HttpMiddleware => {
  if (options.origins.some((origin) => origin.includes('*'))) throw new Error('CORS origins must be exact; "*" is refused');
  // `vary` is honoured by @middy/http-cors 6 but missing from its typings.
  const corsOptions = {
    origins: [...options.origins],
    methods: (options.methods ?? defaults.methods).join(', '),
    headers: (options.headers ?? defaults.headers).join(', '),
    maxAge: options.maxAgeSeconds ?? defaults.maxAgeSeconds,
    vary: 'Origin',
  };
  return httpCors(corsOptions as Parameters<typeof httpCors>[0]) as HttpMiddleware;
};

/**
 * Handles a CORS preflight: 204 when the origin is allowed and the requested
 * method and headers are on the allowlists, else 403 `cors_preflight_denied`
 * (the CORS middleware adds the headers to whichever answer).
 */
export const preflightHandler = (options: CorsPolicyOptions) => {
  const origins = new Set(options.origins);
  const methods = new Set(options.methods ?? defaults.methods);
  const headers = new Set((options.headers ?? defaults.headers).map((h) => h.toLowerCase()));
  return async (event: HttpRequest['event']) => {
    const map = headerMapFromEvent(event);
    const origin = singleHeader(map, 'origin');
    const method = singleHeader(map, 'access-control-request-method');
    const requested = (singleHeader(map, 'access-control-request-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0);
    if (!origin || !origins.has(origin)) throw new HttpError(403, 'cors_preflight_denied', 'Origin not allowed.');
    if (!method || !methods.has(method)) throw new HttpError(403, 'cors_preflight_denied', 'Method not allowed by CORS.');
    const extra = requested.find((h) => !headers.has(h));
    if (extra) throw new HttpError(403, 'cors_preflight_denied', 'Request header not allowed by CORS.');
    return { statusCode: 204, headers: {}, body: '' };
  };
};
