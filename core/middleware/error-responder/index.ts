import { answerableError, DuplicateDeliveryError } from '../../errors.js';
import { redactText, sensitiveValues } from '../../redaction.js';
import { jsonResponse } from '../../responses.js';
import { requestIdOf, stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link errorResponder}. */
export interface ErrorResponderOptions {
  /** Production hides 5xx messages behind a generic text. @default true */
  readonly production?: boolean;
}

const defaults: Required<ErrorResponderOptions> = { production: true };

const GENERIC: Record<number, string> = {
  500: 'Internal server error.',
  502: 'Bad gateway.',
  503: 'Service temporarily unavailable; retry later.',
  504: 'Gateway timeout.',
};

/**
 * The one place errors become responses: `{"error":{"code","message","requestId"}}`.
 * A duplicate delivery becomes 200 `{"status":"duplicate","id":...}`. Unknown
 * errors are 500 `internal_error`. In production a 5xx message is generic;
 * development adds the error's own message (less the request's secrets, signatures, token and body: core/redaction.ts),
 * and to a 401 the specific `reason`. Logging is security-events' job.
 */
export const errorResponder = (opts: ErrorResponderOptions = {}): HttpMiddleware => {
  const { production } = withDefaults(defaults, opts);
  const errorResponderOnError = async (request: HttpRequest): Promise<void> => {
    if (request.response !== undefined) return;
    const error = request.error;
    if (error instanceof DuplicateDeliveryError) {
      request.response = jsonResponse(200, { status: 'duplicate', id: error.deliveryId });
      return;
    }
    const known = answerableError(error);
    const statusCode = known?.statusCode ?? 500;
    const code = known?.code ?? 'internal_error';
    const generic = GENERIC[statusCode] ?? 'Request failed.';
    let message = known && (known.expose || !production) ? known.message : generic;
    // Once the delivery is verified, an HttpError may be the wrapped handler's own, quoting what it was given (the secret, a
    // signature, the body): left out of the answer as out of the log. Before, every message is Hookwarden's.
    if (known && message !== generic && stateOf(request).delivery)
      message = redactText(message, sensitiveValues(stateOf(request), request.event));
    // Development (and DEBUG=true in Lambda, where anyone may be the caller): what was thrown may quote the secret, a
    // signature, a read token or the body, whole or in part; those are left out of the answer as out of the log.
    if (!known && !production && error)
      message = redactText(`${error.name}: ${error.message}`, sensitiveValues(stateOf(request), request.event));
    // Development only: why a signature was refused ("timestamp is 3603 s old (limit 300 s)"). Scheme
    // reasons name headers and numbers, never a secret or MAC; production keeps them in the log.
    const reason = !production && statusCode === 401 && typeof known?.details.reason === 'string' ? { reason: known.details.reason } : {};
    request.response = jsonResponse(
      statusCode,
      { error: { code, message, requestId: requestIdOf(request), ...reason } },
      known?.headers ?? {},
    );
  };
  return { onError: errorResponderOnError };
};
