import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailed } from '../context.js';
import { terminalSafe } from '../terminal.js';
import { apiErrorOf, causeOf, growingPauseMs, retryAfterMs, RETRYABLE_STATUSES, type ApiTarget } from './api.js';

/** A delivery as `GET /events` announces it. */
export interface DeliveryEvent {
  readonly source: string;
  readonly id: string;
  readonly receivedAt: string;
  readonly eventType: string | null;
  readonly size: number;
}

/** Options of {@link followEvents}. */
export interface FollowOptions {
  /** Only this source (`?source=`). */
  readonly source?: string;
  /** Stops following (Ctrl+C): the open connection is closed and the promise resolves. */
  readonly signal: AbortSignal;
  /**
   * Called once per delivery, in order; the next one waits for it. The
   * stream's position moves past a delivery only once this resolves, so a
   * delivery being handled when the connection drops is sent again after the
   * reconnection, and one handled is never sent again.
   */
  onDelivery(event: DeliveryEvent): Promise<void>;
  /** Told when the stream is first open (deliveries stored from then on are sent), when it drops and when it is back (for standard error). */
  onNotice?(text: string): void;
}

const isDeliveryEvent = (value: unknown): value is DeliveryEvent => {
  const v = value as Partial<DeliveryEvent> | null;
  return typeof v === 'object' && v !== null && typeof v.source === 'string' && typeof v.id === 'string';
};

/** Deliveries remembered as handled, so that one the server sends again is not handled twice. */
const REMEMBERED = 10_000;

/**
 * Follows `GET /events` until `signal` aborts: parses the server-sent events
 * as they arrive and reconnects after a dropped or ended connection with
 * `Last-Event-ID` (the id after the last delivery handled), so no delivery is
 * skipped or repeated. A server that cannot tell which deliveries of its
 * look-back a resumed client has sends them again; the last
 * {@link REMEMBERED} handled are recognised by source, id and time received, and passed
 * over. Refusals that retrying cannot fix (401, 403, 400, 404)
 * end it with CommandFailed; 429 and 5xx are retried with a growing pause.
 */
export const followEvents = async (target: ApiTarget, options: FollowOptions): Promise<void> => {
  const { signal } = options;
  const path = `/events${options.source === undefined ? '' : `?source=${encodeURIComponent(options.source)}`}`;
  let lastEventId: string | undefined;
  let retryMs = 1000;
  let failures = 0;
  let dropped = false;
  let connected = false;
  const handled = new Set<string>();

  while (!signal.aborted) {
    let response: Response | undefined;
    try {
      response = await fetch(`${target.url}${path}`, {
        headers: {
          authorization: `Bearer ${target.token}`,
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal,
        redirect: 'error',
      });
    } catch (error) {
      if (signal.aborted) return;
      if (!dropped) options.onNotice?.(`cannot reach ${target.where}: ${causeOf(error, target)}; retrying`);
      dropped = true;
    }
    if (response && response.status !== 200) {
      const problem = await apiErrorOf(response);
      if (!RETRYABLE_STATUSES.has(response.status)) throw new CommandFailed(`GET ${path} on ${target.where}: ${problem}`);
      if (!dropped) options.onNotice?.(`GET ${path} on ${target.where}: ${problem}; retrying`);
      dropped = true;
      retryMs = Math.max(retryMs, retryAfterMs(response));
      response = undefined;
    }
    if (response?.body) {
      if (dropped && connected) {
        options.onNotice?.(
          lastEventId === undefined
            ? `reconnected to ${target.where} (the server gave no position before the drop, so deliveries stored while disconnected are not shown; see hookwarden deliveries)`
            : `reconnected to ${target.where} (resuming after the last delivery)`,
        );
      } else if (!connected) options.onNotice?.(`connected to ${target.where}`);
      connected = true;
      dropped = false;
      failures = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      // A CR that ends a chunk may be the first half of a CRLF split across chunks: kept until the next one says.
      let carriedCr = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let text = carriedCr + value;
          carriedCr = text.endsWith('\r') ? '\r' : '';
          if (carriedCr) text = text.slice(0, -1);
          buffer += text.replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            let id: string | undefined;
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line === '' || line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') event = text;
              else if (field === 'id') id = text;
              else if (field === 'data') data.push(text);
              else if (field === 'retry' && /^\d{1,6}$/.test(text)) retryMs = Math.max(250, Number(text));
            }
            if (data.length === 0) {
              // An id with no data (the stream's opening position) moves the resume point only.
              if (id !== undefined) lastEventId = id;
              continue;
            }
            if (event !== 'delivery') continue;
            let parsed: unknown;
            try {
              parsed = JSON.parse(data.join('\n'));
            } catch {
              parsed = undefined;
            }
            if (isDeliveryEvent(parsed)) {
              const key = `${parsed.source}\n${parsed.id}\n${parsed.receivedAt}`;
              if (!handled.has(key)) {
                await options.onDelivery(parsed);
                handled.add(key);
                if (handled.size > REMEMBERED) handled.delete(handled.values().next().value as string);
              }
            }
            if (id !== undefined) lastEventId = id;
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof CommandFailed) throw error;
        options.onNotice?.(`connection to ${target.where} dropped (${terminalSafe(causeOf(error, target))}); reconnecting`);
        dropped = true;
      } finally {
        reader.releaseLock();
        await response.body.cancel().catch(() => undefined);
      }
      if (signal.aborted) return;
      // The server ends a stream by itself (its maximum duration): come back at once, from where we were.
      if (!dropped) {
        await sleep(Math.min(retryMs, 1000), undefined, { signal }).catch(() => undefined);
        continue;
      }
    }
    failures += 1;
    const pause = growingPauseMs(retryMs, failures - 1);
    await sleep(pause, undefined, { signal }).catch(() => undefined);
  }
};
