import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed } from '../context.js';
import { withoutSecrets } from '../../core/redaction.js';
import { safeUrl, shownUrl, urlCredentials, withSafeUrls } from '../shown-url.js';
import { terminalSafe } from '../terminal.js';
import {
  apiErrorOf,
  apiGet,
  causeOf,
  growingPauseMs,
  REQUEST_TIMEOUT_MS,
  retryAfterMs,
  RETRYABLE_STATUSES,
  type ApiTarget,
} from './api.js';

/** One stored delivery as `GET /deliveries/{source}/{id}` answers it, the body as bytes. */
export interface FetchedDelivery {
  readonly source: string;
  readonly id: string;
  readonly receivedAt: string;
  readonly eventType: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

interface DeliveryAnswer {
  source: string;
  id: string;
  receivedAt: string;
  eventType: string | null;
  headers?: Record<string, unknown>;
  body: string;
  bodyEncoding?: string;
}

/** Options of {@link fetchDelivery}. */
export interface FetchDeliveryOptions {
  /** Stops the read and any wait (Ctrl+C). */
  readonly signal?: AbortSignal;
  /**
   * Waits out a 429 or 5xx (its `Retry-After`, else a growing pause), or a read that got no answer (a
   * dropped connection, a timeout), and reads again, until answered or `signal` aborts, telling this
   * first (`listen`: a burst over the token's rate limit or a network blip must delay a delivery, not
   * skip it). Without it the first refusal throws (`replay`).
   */
  readonly onRetry?: (problem: string, pauseMs: number) => void;
}

/** {@link fetchDelivery}'s failure when the API answers 404: it has no delivery by that id. */
export class DeliveryNotFound extends CommandFailed {}

/** `GET /deliveries/{source}/{id}`, the body decoded to its original bytes. @throws CommandFailed for any answer but 200 (see `onRetry`) */
export const fetchDelivery = async (
  target: ApiTarget,
  source: string,
  id: string,
  options: FetchDeliveryOptions = {},
): Promise<FetchedDelivery> => {
  const { signal, onRetry } = options;
  const path = `/deliveries/${encodeURIComponent(source)}/${encodeURIComponent(id)}`;
  const what = terminalSafe(`${source}/${id}`);
  /** One read: the answer, or why there is none, whether waiting may help, and how long to wait. */
  const read = async (
    failures: number,
  ): Promise<Response | { problem: string; retryable: boolean; pauseMs: number; notFound?: boolean }> => {
    let response: Response;
    try {
      response = await apiGet(target, path, signal ? { signal } : {});
    } catch (error) {
      // No answer at all is retried like a 503 (the read is a GET: reading again forwards nothing twice); replay fails at once.
      if (!onRetry || !(error instanceof CommandFailed)) throw error;
      return {
        problem: `cannot read delivery ${what}: ${terminalSafe(error.message)}`,
        retryable: true,
        pauseMs: growingPauseMs(1000, failures),
      };
    }
    if (response.status === 200) return response;
    return {
      problem: `cannot read delivery ${what} from ${target.where}: ${await apiErrorOf(response)}`,
      retryable: RETRYABLE_STATUSES.has(response.status),
      pauseMs: Math.max(retryAfterMs(response), growingPauseMs(1000, failures)),
      notFound: response.status === 404,
    };
  };
  let response: Response | undefined;
  for (let failures = 0; !response; failures += 1) {
    const outcome = await read(failures);
    if (outcome instanceof Response) response = outcome;
    else {
      if (outcome.notFound) throw new DeliveryNotFound(outcome.problem);
      if (!onRetry || !outcome.retryable) throw new CommandFailed(outcome.problem);
      onRetry(outcome.problem, outcome.pauseMs);
      await sleep(outcome.pauseMs, undefined, signal ? { signal } : {});
    }
  }
  const answer = (await response.json()) as DeliveryAnswer;
  if (typeof answer.body !== 'string')
    throw new CommandFailed(`${target.where} answered delivery ${terminalSafe(`${source}/${id}`)} without a body`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers ?? {})) if (typeof value === 'string') headers[name] = value;
  return {
    source: answer.source,
    id: answer.id,
    receivedAt: answer.receivedAt,
    eventType: answer.eventType ?? null,
    headers,
    body: answer.bodyEncoding === 'base64' ? Buffer.from(answer.body, 'base64') : Buffer.from(answer.body, 'utf8'),
  };
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Connection-level headers belong to the hop they came on; the transport sets its own.
const HOP_BY_HOP = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The headers a forward sends: the kept headers of the delivery (minus
 * hop-by-hop ones and anything not sendable as a header; a character above
 * U+00FF goes as its UTF-8 bytes), then
 * `Hookwarden-Source` and `Hookwarden-Delivery-Id`, which no stored header can replace.
 */
export const forwardHeaders = (delivery: Pick<FetchedDelivery, 'source' | 'id' | 'headers'>): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) {
    const lower = name.toLowerCase();
    // eslint-disable-next-line no-control-regex -- a header value cannot carry these
    if (!TOKEN.test(name) || HOP_BY_HOP.has(lower) || lower.startsWith('hookwarden-') || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value))
      continue;
    // A header on the wire is bytes, and fetch sends a string's characters as Latin-1 bytes, refusing any above
    // U+00FF (which a JSON string from the API may hold): send those as their UTF-8 bytes rather than fail the forward.
    headers[lower] = /[\u0100-\uffff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
  }
  headers['hookwarden-source'] = delivery.source;
  headers['hookwarden-delivery-id'] = delivery.id;
  return headers;
};

/** What the receiver answered. */
export interface ForwardResult {
  readonly status: number;
  readonly statusText: string;
  /** A redirect's `Location`, not followed. */
  readonly location?: string;
}

/**
 * What no message about a forward may quote, whole or in part: the URL's credentials ({@link urlCredentials}: its
 * user name and password, the path segments that may be a token, every query value), the kept headers' values (a
 * receiver's or a provider's credential may be among them) and the body.
 */
const forwardSecrets = (delivery: Pick<FetchedDelivery, 'headers' | 'body'>, to: string): string[] => [
  ...urlCredentials(to),
  ...Object.values(delivery.headers),
  delivery.body.toString('utf8'),
];

/** How a command line says that the answer was a redirect it did not follow (empty when it was not one). */
export const notFollowed = (result: ForwardResult): string =>
  result.location === undefined ? '' : `; not followed: the answer redirects to ${result.location}`;

/**
 * POSTs the delivery's original body bytes and headers to `to`. Redirects are
 * not followed (a POST would turn into a GET): the 3xx is the answer.
 * @throws CommandFailed when the receiver cannot be reached
 */
export const forwardDelivery = async (delivery: FetchedDelivery, to: string, signal?: AbortSignal): Promise<ForwardResult> => {
  let response: Response;
  try {
    response = await fetch(to, {
      method: 'POST',
      headers: forwardHeaders(delivery),
      body: new Uint8Array(delivery.body),
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    // fetch's messages quote the URL ("Failed to parse URL from …", "…a URL that includes credentials: …").
    const why = withoutSecrets(withSafeUrls(causeOf(error)), forwardSecrets(delivery, to));
    throw new CommandFailed(`cannot reach ${terminalSafe(shownUrl(to))}: ${terminalSafe(why)}`);
  }
  // The receiver's body is not ours to print; reading it frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  // The receiver's own words are printed: one that echoes the request (its URL, a header, the body) must not make them a leak.
  const secrets = forwardSecrets(delivery, to);
  const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
  return {
    status: response.status,
    statusText: withoutSecrets(withSafeUrls(response.statusText), secrets),
    ...(location !== null ? { location: withoutSecrets(safeUrl(location), secrets) } : {}),
  };
};
