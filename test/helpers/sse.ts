import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** One server-sent event as a client parses it. */
export interface SseEvent {
  readonly event: string;
  readonly id?: string;
  readonly data: string;
}

/** An open event stream over real HTTP, parsed as it arrives. */
export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Every event so far. */
  readonly events: SseEvent[];
  /** Every comment line so far (without the colon). */
  readonly comments: string[];
  /** Everything received so far, as text. */
  raw(): string;
  /** Resolves when `count` delivery events have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `GET url` and parses the answer as server-sent events. */
export const openSse = (url: string, headers: Record<string, string>): Promise<SseClient> =>
  new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const comments: string[] = [];
    let text = '';
    let buffer = '';
    const waiters: Array<() => void> = [];
    let endResolve: () => void = () => undefined;
    const ended = new Promise<void>((r) => (endResolve = r));
    const parse = (): void => {
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(':');
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
          }
        }
        if (fields.data !== undefined)
          events.push({ event: fields.event ?? 'message', ...(fields.id === undefined ? {} : { id: fields.id }), data: fields.data });
      }
      for (const waiter of [...waiters]) waiter();
    };
    const req: ClientRequest = request(url, { headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        buffer += chunk;
        parse();
      });
      res.on('end', () => endResolve());
      res.on('close', () => endResolve());
      res.on('error', () => endResolve());
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments,
        raw: () => text,
        ended,
        waitFor: (count, timeoutMs = 20_000) =>
          new Promise((done, fail) => {
            const deliveries = () => events.filter((e) => e.event === 'delivery');
            if (deliveries().length >= count) return done(deliveries());
            const timer = setTimeout(
              () => fail(new Error(`only ${deliveries().length} of ${count} events after ${timeoutMs} ms:\n${text}`)),
              timeoutMs,
            );
            const check = (): void => {
              if (deliveries().length < count) return;
              clearTimeout(timer);
              waiters.splice(waiters.indexOf(check), 1);
              done(deliveries());
            };
            waiters.push(check);
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });

/**
 * The ids of the `delivery` events a stream's body carries (a handler's `Readable`, read as it comes): the array
 * grows as they arrive.
 */
export const deliveryIdsOf = (body: Readable): string[] => {
  const ids: string[] = [];
  let text = '';
  body.setEncoding('utf8');
  body.on('data', (chunk: string) => {
    text += chunk;
    for (let at = text.indexOf('\n\n'); at >= 0; at = text.indexOf('\n\n')) {
      const data = /^data: (.*)$/m.exec(text.slice(0, at))?.[1];
      if (data) ids.push((JSON.parse(data) as { id: string }).id);
      text = text.slice(at + 2);
    }
  });
  return ids;
};
