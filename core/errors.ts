import { withoutSecrets } from './redaction.js';

/**
 * The one error hierarchy of Hookwarden. Every rejection is an {@link HttpError}
 * with a stable machine-readable `code`; exactly one middleware (error-responder)
 * turns errors into responses.
 */

/** Options shared by every {@link HttpError}. */
export interface HttpErrorOptions {
  /** Extra response headers, e.g. `Retry-After` or `Allow`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The underlying error, kept for the log (never sent to the client). */
  readonly cause?: unknown;
  /**
   * Whether `message` may be shown to the client.
   * @default statusCode < 500
   */
  readonly expose?: boolean;
  /** Structured details for the log line of this rejection (never secrets, signatures or bodies). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An error that maps to one HTTP answer. */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  readonly statusCode: number;
  readonly code: string;
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(statusCode: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = statusCode;
    this.code = code;
    this.expose = options.expose ?? statusCode < 500;
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }
}

/** 503 with `Retry-After`: a store could not be reached or throttled us. Nothing was stored. */
export class StoreUnavailableError extends HttpError {
  override readonly name = 'StoreUnavailableError';
  /** Which store failed, for people: `delivery store`, `rate-limit store (table hookwarden-rate-limits)`. */
  readonly store: string;
  /**
   * @param retryAfterSeconds @default 5
   * @param store named in the message (shown in development only: production answers a generic 503) @default 'delivery store'
   */
  constructor(cause: unknown, retryAfterSeconds = 5, store = 'delivery store') {
    super(503, 'unavailable', `The ${store} is unavailable; retry later.`, {
      cause,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
    this.store = store;
  }
}

/**
 * Thrown by the replay guard when the delivery is already stored: rendered as
 * 200 `{"status":"duplicate","id":...}`, and the wrapped handler never runs.
 */
export class DuplicateDeliveryError extends HttpError {
  override readonly name = 'DuplicateDeliveryError';
  readonly deliveryId: string;
  constructor(deliveryId: string) {
    super(200, 'duplicate', 'Delivery already received.');
    this.deliveryId = deliveryId;
  }
}

/**
 * `error` as an answer, when it is one: an {@link HttpError} whose status is an error's (a whole number from 400 to
 * 599), or the replay guard's {@link DuplicateDeliveryError} (200). Anything else, an `HttpError` of a wrapped
 * handler's own with a 2xx, a 3xx or `NaN` included, is a failure (500): answered 2xx, a delivery whose record was
 * given back (the handler threw) was never retried by the provider and its copy ran the handler again; `NaN` was a
 * bare 502 from API Gateway.
 */
export const answerableError = (error: unknown): HttpError | undefined => {
  if (error instanceof DuplicateDeliveryError) return error;
  if (!(error instanceof HttpError)) return undefined;
  const status = error.statusCode;
  return Number.isInteger(status) && status >= 400 && status <= 599 ? error : undefined;
};

/**
 * Thrown by the replay guard when another invocation holds the delivery and is
 * still processing it: 409 with `Retry-After`, so the provider retries later.
 */
export class DeliveryInProgressError extends HttpError {
  override readonly name = 'DeliveryInProgressError';
  constructor(deliveryId: string, retryAfterSeconds: number) {
    super(409, 'delivery_in_progress', 'This delivery is being processed; retry later.', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
      details: { deliveryId },
    });
  }
}

/**
 * A stored delivery whose body cannot be given back whole: a part of it is missing, or the bytes put together are
 * not the ones stored (their length or SHA-256 differs). Fail closed: never a truncated or altered body. A 500 (not
 * shown to the client in production): the store is damaged, not the request.
 */
export class DamagedDeliveryError extends HttpError {
  override readonly name = 'DamagedDeliveryError';
  /** What is wrong with the stored body (`part 2 of 3 is missing`), for a listing that marks the delivery and goes on. */
  readonly reason: string;
  constructor(source: string, deliveryId: string, why: string) {
    super(500, 'delivery_damaged', `The stored body of delivery ${source}/${deliveryId} cannot be read whole: ${why}.`, {
      details: { source, deliveryId },
    });
    this.reason = why;
  }
}

/**
 * Every problem found in the configuration, reported together. A value shaped like a secret (a secret pasted into
 * the wrong variable) is never quoted: it is printed at start, and a function's init error lands in CloudWatch.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    const shown = problems.map((problem) => withoutSecrets(problem, []));
    super(`Invalid Hookwarden configuration:\n${shown.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = shown;
  }
}

/**
 * The codes of a delivery whose signature or timestamp is refused (401): what a
 * scheme's `verify` returns, what the signature middleware answers, and what is
 * counted as `AuthenticationFailure` (alarmed on in AWS) and queried in the logs.
 */
export const AUTHENTICATION_FAILURE_CODES = ['signature_invalid', 'timestamp_invalid', 'timestamp_out_of_range'] as const;

/** One of {@link AUTHENTICATION_FAILURE_CODES}. */
export type AuthenticationFailureCode = (typeof AUTHENTICATION_FAILURE_CODES)[number];

/**
 * The codes of a deliveries-API request refused for its read token (401): no
 * token, or one that is malformed, unknown, expired or revoked. Counted as
 * `ApiRequestRejected` by code; the CDK alarms on their sum (token probing).
 */
export const READ_TOKEN_REFUSAL_CODES = ['token_missing', 'token_invalid'] as const;

/** Whether a rejection's `code` is an authentication failure. */
export const isAuthenticationFailure = (code: string): code is AuthenticationFailureCode =>
  (AUTHENTICATION_FAILURE_CODES as readonly string[]).includes(code);
