import { onInvocationEnd } from '../../deadline.js';
import type { HttpMiddleware, HttpRequest } from '../types.js';

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Headers added to every response (existing values win). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The headers every answer carries; also used by the local server for the errors it answers itself. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

const defaults: Required<SecurityHeadersOptions> = { headers: SECURITY_HEADERS };

/**
 * Adds nosniff, no-store, HSTS and frame-deny headers to every response,
 * errors included. An answer a later middleware gives early (Middy then runs no `after` or `onError` hook) gets
 * them at the end of the invocation, where its runtime or `hookwardenPlugin` runs it ({@link onInvocationEnd}).
 */
export const securityHeaders = (options: SecurityHeadersOptions = {}): HttpMiddleware => {
  const headers = { ...defaults.headers, ...options.headers };
  const securityHeadersAfter = async (request: HttpRequest): Promise<void> => {
    if (!request.response) return;
    request.response.headers = { ...headers, ...request.response.headers };
  };
  const securityHeadersBefore = (request: HttpRequest): void => {
    if (typeof request.context === 'object' && request.context !== null)
      onInvocationEnd(request.context, () => securityHeadersAfter(request));
  };
  return { before: securityHeadersBefore, after: securityHeadersAfter, onError: securityHeadersAfter };
};
