import type { SourceConfig } from '../../config/index.js';
import { HttpError } from '../../errors.js';
import { headerMapFromEvent } from '../../headers.js';
import { refuseNonRestEvent, stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link webhookRoute}. */
export interface WebhookRouteOptions {
  /** Configured sources by name. */
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

const defaults: Required<Pick<WebhookRouteOptions, 'now'>> = { now: Date.now };

/**
 * Resolves `{source}` of `/webhooks/{source}` (unknown: 404 with a generic body)
 * and allows POST only (others: 405 with `Allow`). An HTTP API payload format 2.0, Lambda function URL or
 * Application Load Balancer event is refused (500, the fix in the log): the pipeline reads the REST proxy event.
 */
export const webhookRoute = (opts: WebhookRouteOptions): HttpMiddleware => {
  const options = withDefaults(defaults, opts);
  const sources = new Map(options.sources);
  const { now } = options;
  const webhookRouteBefore = async (request: HttpRequest): Promise<void> => {
    refuseNonRestEvent(request.event);
    const state = stateOf(request);
    state.receivedAt = now();
    const name = request.event.pathParameters?.source;
    const source = name === undefined ? undefined : sources.get(name);
    if (!source) throw new HttpError(404, 'not_found', 'Not found.', { details: { reason: 'unknown source' } });
    state.source = source;
    if (request.event.httpMethod !== 'POST') {
      throw new HttpError(405, 'method_not_allowed', 'Only POST is accepted here.', {
        headers: { Allow: 'POST, OPTIONS' },
        details: { method: String(request.event.httpMethod).slice(0, 16) },
      });
    }
    state.headers = headerMapFromEvent(request.event);
  };
  return { before: webhookRouteBefore };
};
