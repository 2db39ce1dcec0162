import { HttpError } from '../../errors.js';
import { readerStateOf } from '../../reader/state.js';
import { redactForLog, sensitiveValues } from '../../redaction.js';
import { countMetric, METRIC, type Telemetry } from '../../telemetry.js';
import { requestIdOf, stateOf, type HttpMiddleware, type HttpRequest } from '../types.js';

/**
 * The deliveries API's security events: every refusal (401, 403, 429, 400, 404)
 * is one structured log line (`api request rejected`: code, status, token id,
 * client IP, request id, reason) and one `ApiRequestRejected` count by code;
 * an unexpected error is logged with its details, less the token (and, in production, less the message of a
 * parser's or AWS SDK's error). Never logs a token.
 */
export const readerEvents = (options: { readonly telemetry: Telemetry; readonly production?: boolean }): HttpMiddleware => {
  const { telemetry } = options;
  const production = options.production ?? true;
  const readerEventsOnError = async (request: HttpRequest): Promise<void> => {
    const error = request.error;
    const base = {
      tokenId: readerStateOf(request.context).token?.id,
      path: request.event.resource,
      clientIp: request.event.requestContext?.identity?.sourceIp,
      requestId: requestIdOf(request),
    };
    if (error instanceof HttpError && error.expose) {
      telemetry.logger.warn('api request rejected', {
        securityEvent: { ...base, code: error.code, statusCode: error.statusCode, reason: error.message, ...error.details },
      });
      countMetric(telemetry.metrics, METRIC.apiRejected, { code: error.code });
      return;
    }
    telemetry.logger.error('api request failed', {
      ...base,
      code: error instanceof HttpError ? error.code : 'internal_error',
      // The read token (Authorization) and credential-like query parameters, whole or in part, never reach the log.
      error: redactForLog(error, sensitiveValues(stateOf(request), request.event), { production }),
    });
  };
  return { onError: readerEventsOnError };
};
