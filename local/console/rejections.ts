import type { APIGatewayProxyResult } from 'aws-lambda';

/** One refused webhook as the local console shows it. Every string came from (or is about) a request: the page prints it as text. */
export interface Rejection {
  /** Increasing number, for `?after=`. */
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  /** The source named in the path (possibly not a configured one). */
  readonly source: string;
  readonly status: number;
  readonly code: string;
  /** The development reason when the server gives one, else the answer's message. */
  readonly reason: string;
  readonly requestId: string;
  readonly clientIp: string;
}

/** Longest string kept per field: the console is for people, not an archive. */
const MAX_FIELD = 300;
const cut = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value.slice(0, MAX_FIELD) : fallback);

/**
 * The local server's recent security events for the console: a fixed-size
 * ring of the latest rejections of the webhook route, in memory only (gone at
 * restart, never written to the store).
 */
export class RecentRejections {
  readonly #capacity: number;
  readonly #ring: Rejection[] = [];
  #seq = 0;

  /** @param capacity how many are kept, oldest dropped first. @default 200 */
  constructor(capacity = 200) {
    this.#capacity = capacity;
  }

  /** Records the answer of the webhook route when it is a refusal (4xx or 5xx); ignores the rest. */
  recordAnswer(
    answer: {
      readonly source: string;
      readonly clientIp: string;
      readonly requestId: string;
      readonly result: Pick<APIGatewayProxyResult, 'statusCode' | 'body'>;
    },
    nowMs: number = Date.now(),
  ): void {
    const { statusCode, body } = answer.result;
    if (statusCode < 400) return;
    let error: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(body) as { error?: unknown };
      if (parsed.error && typeof parsed.error === 'object') error = parsed.error as Record<string, unknown>;
    } catch {
      // not the error shape: status only
    }
    this.#seq += 1;
    this.#ring.push({
      seq: this.#seq,
      at: new Date(nowMs).toISOString(),
      source: cut(answer.source),
      status: statusCode,
      code: cut(error.code, 'unknown'),
      reason: cut(error.reason) || cut(error.message),
      requestId: cut(error.requestId) || answer.requestId,
      clientIp: cut(answer.clientIp),
    });
    if (this.#ring.length > this.#capacity) this.#ring.shift();
  }

  /** The kept rejections after `seq`, oldest first. */
  after(seq: number): readonly Rejection[] {
    return this.#ring.filter((r) => r.seq > seq);
  }
}
