import { HttpError } from '../../errors.js';
import { headerValuesFromEvent } from '../../headers.js';
import type { HttpMiddleware, HttpRequest } from '../types.js';

/** Options of {@link originGuard}. */
export interface OriginGuardOptions {
  /** Exact origins (`CORS_ORIGINS`); empty allows no browser origin at all. */
  readonly origins: readonly string[];
}

/**
 * The guide's streaming-endpoint rule: a request that carries `Origin` (a
 * browser's cross-origin request) is refused with 403 `origin_denied` unless
 * that origin is exactly one of `origins`, before anything else runs, so a
 * stream never sends a byte to a page it should not. Several `Origin` values
 * are refused too. A request without `Origin` (curl, the CLI) is not a
 * browser's and goes on to the token check.
 */
export const originGuard = (options: OriginGuardOptions): HttpMiddleware => {
  if (options.origins.some((origin) => origin.includes('*'))) throw new Error('origins must be exact; "*" is refused');
  const origins = new Set(options.origins);
  const originGuardBefore = async (request: HttpRequest): Promise<void> => {
    const values = headerValuesFromEvent(request.event, 'origin');
    if (values === undefined || values.length === 0) return;
    if (values.length === 1 && origins.has(values[0] as string)) return;
    throw new HttpError(403, 'origin_denied', 'Origin not allowed.', { details: { reason: 'the Origin is not one of CORS_ORIGINS' } });
  };
  return { before: originGuardBefore };
};
