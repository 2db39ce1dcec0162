import type { HttpMiddleware, HttpRequest } from '../types';

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Headers added to every response (existing values win). */
  readonly headers?: Readonly<Record<string, string>>;
}

const defaults: Required<SecurityHeadersOptions> = {
  headers: {
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
  },
};

/**
 * Adds nosniff, no-store, HSTS and frame-deny headers to every response,
 * errors included.
 */
export const securityHeaders = (options: SecurityHeadersOptions = {}): HttpMiddleware => {
  const headers = { ...defaults.headers, ...options.headers };
  const securityHeadersAfter = async (request: HttpRequest): Promise<void> => {
    if (!request.response) return;
    request.response.headers = { ...headers, ...request.response.headers };
  };
  return { after: securityHeadersAfter, onError: securityHeadersAfter };
};
