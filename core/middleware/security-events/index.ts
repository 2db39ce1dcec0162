import { answerableError, DuplicateDeliveryError } from '../../errors.js';
import { countMetric, METRIC, printableForLog, reportRejection, UNKNOWN_SOURCE, type Telemetry } from '../../telemetry.js';
import { redactForLog, sensitiveValues } from '../../redaction.js';
import { requestIdOf, stateOf, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link securityEvents}. */
export interface SecurityEventsOptions {
  readonly telemetry: Telemetry;
  /** Production withholds the message of a parser's or AWS SDK's error from the log (core/redaction.ts). @default true */
  readonly production?: boolean;
}

/**
 * Turns every outcome into one structured log line and a metric: accepted and
 * duplicate deliveries at info (a delivery a wrapped handler answered with
 * anything but 2xx is a warning, not counted as accepted), each rejection as a security event (code,
 * source, client IP, request id, reason), unexpected errors at error level with
 * their details (log only, less the source's secrets, the signature and the body wherever they occur, whole or in
 * part; in production less the message of a parser's or AWS SDK's error too).
 * Never logs a secret, signature or body.
 */
export const securityEvents = (options: SecurityEventsOptions): HttpMiddleware => {
  const { telemetry } = options;
  const production = options.production ?? true;

  const securityEventsAfter = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    if (!state.delivery || !state.source) return;
    const fields = {
      source: state.source.name,
      deliveryId: state.delivery.deliveryId,
      eventType: state.delivery.eventType,
      clientIp: state.client?.address.ip,
      requestId: requestIdOf(request),
    };
    const status = request.response?.statusCode;
    // A wrapped handler that answers anything but 2xx has not taken the delivery: its record is released for the retry.
    if (status === undefined || status < 200 || status > 299) {
      telemetry.logger.warn('webhook declined by the handler', { ...fields, statusCode: status });
      return;
    }
    telemetry.logger.info('webhook accepted', fields);
    countMetric(telemetry.metrics, METRIC.accepted, { source: state.source.name });
  };

  const securityEventsOnError = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    const error = request.error;
    // Only a configured source names a metric or a log field; an unknown one is a fixed value, and
    // the path it came from is logged escaped and cut (it is whatever the sender typed).
    const path = request.event.path;
    const base = {
      source: state.source?.name ?? UNKNOWN_SOURCE,
      ...(state.source || typeof path !== 'string' ? {} : { path: printableForLog(path) }),
      clientIp: state.client?.address.ip ?? request.event.requestContext?.identity?.sourceIp,
      requestId: requestIdOf(request),
    };
    if (error instanceof DuplicateDeliveryError) {
      telemetry.logger.info('webhook duplicate', { ...base, deliveryId: error.deliveryId });
      countMetric(telemetry.metrics, METRIC.duplicate, { source: base.source });
      return;
    }
    // Exposed errors are deliberate answers (4xx, a disabled source), not failures.
    const known = answerableError(error);
    if (known && known.expose) {
      const told = { reason: known.message, ...known.details };
      // Once the delivery is verified, a 4xx may be the wrapped handler's own (`HttpError` is exported), quoting what it was
      // given: the secret, a signature or the body are left out as for a failure. Before, the reason is Hookwarden's.
      const said = state.delivery ? (redactForLog(told, sensitiveValues(state, request.event)) as typeof told) : told;
      reportRejection(telemetry, { ...base, code: known.code, statusCode: known.statusCode, ...said });
      return;
    }
    telemetry.logger.error('webhook failed', {
      ...base,
      code: known ? known.code : 'internal_error',
      // What a wrapped handler threw may quote the secret, a signature or the body, whole or in part: those are left out.
      error: redactForLog(error, sensitiveValues(state, request.event), { production }),
    });
    if (known) countMetric(telemetry.metrics, METRIC.rejected, { source: base.source, code: known.code });
  };

  return { after: securityEventsAfter, onError: securityEventsOnError };
};
