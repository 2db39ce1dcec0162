import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';

/**
 * The reader function's timeout (`GET /deliveries`, `GET /deliveries/{source}/{id}`, the preflights):
 * lib/constructs/deliveries-api.ts sets it from here, and the request deadline below is derived from it.
 */
export const READER_TIMEOUT_SECONDS = 10;

const MARGIN_MS = 2_000;
/**
 * How a reader request's time is shared out, all derived from {@link READER_TIMEOUT_SECONDS}:
 * at `budgetMs` every DynamoDB call of the request is aborted (the 503 `unavailable` follows at once);
 * `lateAnswerMs` after that, a request still running anyway is answered 503 without it. `marginMs` is
 * always left between the deadline and the function's end (the deadline comes sooner when a Lambda
 * context has less than `budgetMs + marginMs` left), for the answer, its log line and the metrics flush.
 */
export const READER_DEADLINE = {
  marginMs: MARGIN_MS,
  lateAnswerMs: 1_000,
  budgetMs: READER_TIMEOUT_SECONDS * 1000 - MARGIN_MS,
} as const;

/** Why a reader request's DynamoDB calls were aborted: the abort's reason, kept as the 503's cause in the log. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor(readonly budgetMs: number) {
    super(`the request's deadline (${budgetMs} ms) passed before the store answered`);
  }
}

/** One request's deadline. */
export interface RequestDeadline {
  /** Aborted at the deadline, with a {@link DeadlineExceededError} as its reason. */
  readonly signal: AbortSignal;
  /** Resolves `lateAnswerMs` after the deadline, unless cleared first. */
  readonly late: Promise<void>;
  /** Stops both timers (the request is answered). */
  clear(): void;
}

/**
 * Starts a request's deadline: `budgetMs`, or less when the Lambda context has less time left than
 * that plus the margin (a deadline in the past aborts at once).
 */
export const startDeadline = (budgetMs: number, context?: Partial<Context>): RequestDeadline => {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
  const ms = Math.max(0, Math.min(budgetMs, remaining - READER_DEADLINE.marginMs));
  const controller = new AbortController();
  const abort = setTimeout(() => controller.abort(new DeadlineExceededError(ms)), ms);
  let lateTimer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (lateTimer = setTimeout(resolve, ms + READER_DEADLINE.lateAnswerMs)));
  return {
    signal: controller.signal,
    late,
    clear: () => {
      clearTimeout(abort);
      clearTimeout(lateTimer);
    },
  };
};

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the deadline of every DynamoDB call it makes through a {@link deadlineBound} client. */
export const withDeadline = <T>(signal: AbortSignal, fn: () => T): T => current.run(signal, fn);

type Send = DynamoDBClient['send'];

/**
 * The same client, whose `send` passes the current request's deadline (see {@link withDeadline}) to the SDK as its
 * `abortSignal`: the SDK then ends the HTTP request, its retries and the waits between them. Outside a deadline
 * (the event stream, the webhook route, the command line) it is the client as it was. The stores need no change,
 * and none of them can forget the deadline.
 */
export const deadlineBound = (client: DynamoDBClient): DynamoDBClient => {
  const send = ((command: Parameters<Send>[0], optionsOrCallback?: unknown, callback?: unknown) => {
    const signal = current.getStore();
    if (!signal || typeof optionsOrCallback === 'function')
      return (client.send as (...args: unknown[]) => unknown)(command, optionsOrCallback, callback);
    const options = (optionsOrCallback ?? {}) as { abortSignal?: AbortSignal };
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, signal]) : signal;
    return (client.send as (...args: unknown[]) => unknown)(command, { ...options, abortSignal }, callback);
  }) as Send;
  return new Proxy(client, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
};
