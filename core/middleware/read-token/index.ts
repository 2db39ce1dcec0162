import { HttpError } from '../../errors.js';
import { headerValuesFromEvent } from '../../headers.js';
import type { RateLimit } from '../../rate-limit/sliding-window.js';
import { readerStateOf } from '../../reader/state.js';
import type { RateDecision, RateLimiter } from '../../stores/rate-limit-store.js';
import { READER_LIMIT_KEYS } from '../../stores/tables.js';
import type { TokenCache } from '../../stores/token-cache.js';
import { withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link readToken}. */
export interface ReadTokenOptions {
  readonly tokens: TokenCache;
  /** Counts each request against the token's sliding window. @default none (no per-token limit) */
  readonly rateLimiter?: RateLimiter;
  /** The per-token limit (`HOOKWARDEN_API_RATE_LIMIT`). @default 600/60s */
  readonly rate?: RateLimit;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

const defaults: Required<Pick<ReadTokenOptions, 'rate' | 'now'>> = { rate: { limit: 600, windowSeconds: 60 }, now: Date.now };

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The deliveries API's authentication: `Authorization: Bearer hwk_…`. No
 * header, or no bearer token in it: 401 `token_missing`. A token that is
 * unknown, malformed, expired or revoked: 401 `token_invalid` (one answer, so
 * a caller learns nothing about which). Then the token's own sliding window
 * on the shared rate limiter: over it, 429 `rate_limited` with `Retry-After`
 * and the `RateLimit` headers of the webhook route. The record goes to the
 * reader state for the scope check, with a check that the token is still live
 * for the event stream, which outlives the request's own check.
 */
export const readToken = (opts: ReadTokenOptions): HttpMiddleware => {
  const options = withDefaults(defaults, opts);
  const readTokenBefore = async (request: HttpRequest): Promise<void> => {
    const values = headerValuesFromEvent(request.event, 'authorization') ?? [];
    if (values.length === 0)
      throw new HttpError(401, 'token_missing', 'A read token is required: Authorization: Bearer hwk_….', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    const match = values.length === 1 ? BEARER.exec(values[0] as string) : null;
    if (!match)
      throw new HttpError(401, 'token_missing', 'A read token is required: Authorization: Bearer hwk_….', {
        headers: { 'WWW-Authenticate': 'Bearer' },
        details: { reason: 'not a single Bearer credential' },
      });
    const record = await options.tokens.verify(match[1] as string);
    if (!record)
      throw new HttpError(401, 'token_invalid', 'The read token is invalid, expired or revoked.', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    const state = readerStateOf(request.context);
    state.token = record;
    const credential = match[1] as string;
    state.tokenLive = async () => (await options.tokens.verify(credential)) !== undefined;
    if (!options.rateLimiter) return;
    const decision = await options.rateLimiter.hit(`${READER_LIMIT_KEYS.token}${record.id}`, options.rate, options.now());
    if (!decision.admitted) throw tokenRateLimited(decision, 'api', record.id, 'Too many requests for this token; retry later.');
  };
  return { before: readTokenBefore };
};

/** A per-token window's 429 `rate_limited`, with `Retry-After` and the IETF `RateLimit` headers under `policy`'s name. */
export const tokenRateLimited = (decision: RateDecision, policy: string, tokenId: string, message: string): HttpError =>
  new HttpError(429, 'rate_limited', message, {
    headers: {
      'Retry-After': String(decision.retryAfterSeconds),
      'RateLimit-Policy': `"${policy}";q=${decision.limit};w=${decision.windowSeconds}`,
      RateLimit: `"${policy}";r=0;t=${decision.retryAfterSeconds}`,
    },
    details: { tokenId, limit: decision.limit, windowSeconds: decision.windowSeconds },
  });

/**
 * Refuses a source outside the token's scope: 403 `token_scope`.
 * A token with no sources reads every source.
 */
export const requireScope = (sources: readonly string[], source: string): void => {
  if (sources.length > 0 && !sources.includes(source))
    throw new HttpError(403, 'token_scope', 'This read token does not cover that source.');
};
