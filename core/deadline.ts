import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';

/** How a request's time is shared out inside its function's timeout (see {@link deadlineShares}). */
export interface DeadlineShares {
  /** Always left between the deadline and the function's end: the answer, its log line, the metrics flush. */
  readonly marginMs: number;
  /** After the deadline, how long a request still running anyway may take before it is answered without it. */
  readonly lateAnswerMs: number;
  /** At this point of a request every DynamoDB call it still makes is aborted (a 503 `unavailable` follows). */
  readonly budgetMs: number;
}

const MARGIN_MS = 2_000;
const LATE_ANSWER_MS = 1_000;

/** The deadline, the late answer and the margin of a function whose timeout is `timeoutSeconds`. */
export const deadlineShares = (timeoutSeconds: number): DeadlineShares => ({
  marginMs: MARGIN_MS,
  lateAnswerMs: LATE_ANSWER_MS,
  budgetMs: timeoutSeconds * 1000 - MARGIN_MS,
});

/**
 * The webhook function's timeout (`POST /webhooks/{source}`, its preflight; the health function shares it):
 * lib/constructs/webhook-functions.ts sets it from here, and the webhook request's deadline is derived from it.
 */
export const WEBHOOK_TIMEOUT_SECONDS = 10;

/** The webhook request's deadline: 8 s, the late answer 1 s after it, 2 s of margin (see {@link deadlineShares}). */
export const WEBHOOK_DEADLINE: DeadlineShares = deadlineShares(WEBHOOK_TIMEOUT_SECONDS);

// Symbol.for, not a module's own symbol: a handler bundled with its own copy of Hookwarden still sees the server's mark.
const RUNS_ON = Symbol.for('hookwarden.runsOnPastTimeout');
// The work left for the end of an invocation ({@link onInvocationEnd}), on its context.
const ENDS = Symbol.for('hookwarden.invocationEnds');
// How many chains built with hookwardenPlugin run on a context now, one inside another ({@link enterChain}).
const CHAINS = Symbol.for('hookwarden.chainsRunning');

/**
 * Marks a Lambda context whose runtime lets a handler run on past the function's timeout: the local server's. Lambda
 * ends a handler at its timeout, so a delivery's lease (the invocation's time and a second) outlives it; nothing ends
 * one on `npm start` (a breakpoint, a slow call), and the replay guard then keeps its lease alive while it runs. A
 * runtime that marks its contexts calls {@link endInvocation} on each once its handler has settled.
 */
export const markRunsOnPastTimeout = <C extends object>(context: C): C => Object.assign(context, { [RUNS_ON]: true });

/** Whether {@link markRunsOnPastTimeout} marked this context (never on Lambda). */
export const runsOnPastTimeout = (context: object | undefined): boolean =>
  (context as Record<symbol, unknown> | undefined)?.[RUNS_ON] === true;

/** Work left for an invocation's end, and how deep in chains it was left ({@link enterChain}). */
interface LeftForEnd {
  readonly fn: () => Promise<void>;
  readonly depth: number;
}

const chainsOf = (record: Record<symbol, unknown>): number => (typeof record[CHAINS] === 'number' ? record[CHAINS] : 0);

/**
 * Leaves `fn` for the end of the invocation of `context`, once its handler has settled: the runtime (the local server)
 * or Middy's end of the request ({@link hookwardenPlugin}'s `requestEnd`) calls {@link endInvocation}. Where neither
 * does (Lambda, a chain composed without the plugin), it never runs, and goes with the context. Left inside a chain
 * built with the plugin, it is that chain's, run at its end, never at the end of a chain inside it (a team handler
 * that is a Middy chain with the plugin too).
 */
export const onInvocationEnd = (context: object, fn: () => Promise<void>): void => {
  const record = context as Record<symbol, unknown>;
  const ends = Array.isArray(record[ENDS]) ? (record[ENDS] as LeftForEnd[]) : [];
  ends.push({ fn, depth: chainsOf(record) });
  record[ENDS] = ends;
};

/**
 * Whether a chain built with `hookwardenPlugin` runs on this context ({@link enterChain}): one that does not has Middy's
 * early timeout, whatever the runtime (the local server runs an invocation's end itself, but not that).
 */
export const inPluginChain = (context: object | undefined): boolean =>
  context !== undefined && chainsOf(context as Record<symbol, unknown>) > 0;

/**
 * A chain built with {@link hookwardenPlugin} starts on `context` (Middy's `requestStart`): what is left for the end
 * from here on is this chain's. @returns its depth, for {@link endInvocation} at its end
 */
export const enterChain = (context: object): number => {
  const record = context as Record<symbol, unknown>;
  const depth = chainsOf(record) + 1;
  record[CHAINS] = depth;
  return depth;
};

/**
 * Runs what the invocation of `context` left for its end ({@link onInvocationEnd}), once, in order. A runtime that
 * marks its contexts ({@link markRunsOnPastTimeout}) calls it when the handler has settled, before answering, and
 * {@link hookwardenPlugin} at Middy's end of each request with its chain's depth (`fromDepth`): only what that chain
 * and chains inside it left runs then. Before, a team handler that was a Middy chain with the plugin too ran, at its
 * own end, the outer guard's settlement before the outer chain's `after` hook, with no answer yet, and its claim was
 * given back although the handler had taken the delivery (202): every copy ran it again. The replay guard then
 * settles a claim that no hook of its settled (a middleware after it answered early: Middy runs no `after` hook then),
 * which otherwise stays held, every copy 409 until its lease passes (on the local server, which renews the lease, for
 * as long as the process lives). Never throws: each `fn` reports its own failure.
 * @param fromDepth the depth {@link enterChain} gave the chain that ends @default 0 (the whole invocation)
 */
export const endInvocation = async (context: object, fromDepth = 0): Promise<void> => {
  const record = context as Record<symbol, unknown>;
  if (fromDepth > 0) record[CHAINS] = fromDepth - 1;
  const ends = record[ENDS];
  if (!Array.isArray(ends) || ends.length === 0) return;
  const left = ends as LeftForEnd[];
  const due = left.filter((end) => end.depth >= fromDepth);
  if (due.length === 0) return;
  record[ENDS] = left.filter((end) => end.depth < fromDepth);
  for (const { fn } of due) await fn().catch(() => undefined);
};

/** Why a request's DynamoDB calls were aborted: the abort's reason, kept as the 503's cause in the log. */
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
  /** Resolves `lateAnswerMs` after the deadline, unless cleared or held first. */
  readonly late: Promise<void>;
  /** Stops both timers (the request is answered). */
  clear(): void;
  /**
   * Stops the clock for good unless the deadline has already passed: `true` when stopped, `false` when the
   * deadline passed (the request's calls are aborted and it is, or is about to be, answered 503).
   */
  hold(): boolean;
}

/**
 * Starts a request's deadline: `budgetMs`, or less when the Lambda context has less time left than
 * that plus the margin (a deadline in the past aborts at once).
 */
export const startDeadline = (
  budgetMs: number,
  context?: Partial<Context>,
  shares: Pick<DeadlineShares, 'marginMs' | 'lateAnswerMs'> = { marginMs: MARGIN_MS, lateAnswerMs: LATE_ANSWER_MS },
): RequestDeadline => {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
  const ms = Math.max(0, Math.min(budgetMs, remaining - shares.marginMs));
  const controller = new AbortController();
  // setTimeout takes at most 2^31-1 ms: an unbounded deadline never fires.
  const finite = Number.isFinite(ms);
  const abort = finite ? setTimeout(() => controller.abort(new DeadlineExceededError(ms)), ms) : undefined;
  let lateTimer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    if (finite) lateTimer = setTimeout(resolve, ms + shares.lateAnswerMs);
  });
  const clear = (): void => {
    clearTimeout(abort);
    clearTimeout(lateTimer);
  };
  return {
    signal: controller.signal,
    late,
    clear,
    hold: () => {
      if (controller.signal.aborted) return false;
      clear();
      return true;
    },
  };
};

// `undefined`: outside every deadline (outsideDeadline).
const current = new AsyncLocalStorage<Pick<RequestDeadline, 'signal' | 'hold'> | undefined>();

/**
 * Runs `fn` with `deadline` (or a bare signal) as the deadline of every call it makes through a
 * {@link deadlineBound} client.
 */
export const withDeadline = <T>(deadline: AbortSignal | Pick<RequestDeadline, 'signal' | 'hold'>, fn: () => T): T =>
  current.run(deadline instanceof AbortSignal ? { signal: deadline, hold: () => !deadline.aborted } : deadline, fn);

/**
 * Stops the current request's deadline (see {@link RequestDeadline.hold}): from here on its work must not be cut
 * short nor answered for it. `false` when the deadline has already passed; `true` outside a deadline.
 */
export const holdDeadline = (): boolean => current.getStore()?.hold() ?? true;

/**
 * Runs `fn` under a deadline of its own: the time the Lambda context has left, less `marginMs` for the answer that
 * must still go out after it. Without a context that tells its time, or with one whose runtime lets a handler run on
 * past it ({@link markRunsOnPastTimeout}: its time is no end), `fn` runs with no deadline at all (its client's
 * attempts bound it). On the local server a handler that outlived its 10 s had no time left, and the complete or
 * release that followed it was aborted before it was sent.
 */
export const withinRemainingTime = async <T>(
  context: Partial<Context> | undefined,
  fn: () => Promise<T>,
  marginMs = LATE_ANSWER_MS,
): Promise<T> => {
  const deadline = startDeadline(Infinity, runsOnPastTimeout(context) ? undefined : context, { marginMs, lateAnswerMs: 0 });
  try {
    return await withDeadline(deadline, fn);
  } finally {
    deadline.clear();
  }
};

/**
 * Runs `fn` outside every request's deadline: the calls it makes through a {@link deadlineBound} client carry no
 * request's signal. For a read that concurrent requests share (the blocklist refresh, a key document): it must not
 * be aborted at the deadline of whichever request happened to start it, as every other waiter would fail with it.
 * It is bounded by its client's own attempts instead (core/aws-client-settings.ts); each request waits for it
 * with {@link untilDeadline}.
 */
export const outsideDeadline = <T>(fn: () => T): T => current.run(undefined, fn);

/**
 * Waits for `shared` (work started with {@link outsideDeadline}) until the current request's deadline: if the
 * deadline passes first, rejects with what `onDeadline` makes of its reason (a {@link DeadlineExceededError}),
 * as an aborted call of the request's own would have failed. The shared work goes on for its other waiters.
 * Outside a deadline, or once it is held, `shared` as it settles.
 */
export const untilDeadline = <T>(shared: Promise<T>, onDeadline: (reason: unknown) => unknown): Promise<T> => {
  const signal = current.getStore()?.signal;
  if (!signal) return shared;
  return new Promise<T>((resolve, reject) => {
    const passed = (): void => reject(onDeadline(signal.reason));
    // Handled even when given up on: a shared read that fails later is no unhandled rejection.
    shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', passed));
    if (signal.aborted) passed();
    else signal.addEventListener('abort', passed, { once: true });
  });
};

/** Why a request still running after its deadline was answered without it: the late answer's 503 cause. */
export const STILL_RUNNING = 'the request was still running after its deadline, its DynamoDB calls aborted';

/**
 * `handler` under a deadline of `budgetMs` (less when the Lambda context has less time left): every call it makes
 * through a {@link deadlineBound} client is aborted at the deadline, and if it is still running `lateAnswerMs`
 * later all the same (work the abort does not reach), the request is answered by `lateAnswer` instead.
 */
export const answeredByDeadline =
  <E, R>(
    budgetMs: number,
    shares: Pick<DeadlineShares, 'marginMs' | 'lateAnswerMs'>,
    handler: (event: E, context: Context) => Promise<R>,
    lateAnswer: (event: E, context: Context) => Promise<R>,
  ) =>
  async (event: E, context: Context): Promise<R> => {
    const deadline = startDeadline(budgetMs, context, shares);
    const answer = withDeadline(deadline, () => handler(event, context));
    answer.catch(() => undefined);
    try {
      return await Promise.race([answer, deadline.late.then(() => lateAnswer(event, context))]);
    } finally {
      deadline.clear();
    }
  };

type Sender = { send: (...args: never[]) => unknown };
const bound = new WeakSet<object>();

/**
 * The same client, whose `send` passes the current request's deadline (see {@link withDeadline}) to the SDK as its
 * `abortSignal`: the SDK then ends the HTTP request, its retries and the waits between them. Outside a deadline
 * (the event stream, the command line) it is the client as it was. The stores need no change, and none of them
 * can forget the deadline. A client already bound is returned as is.
 */
export const deadlineBound = <C extends Sender>(client: C): C => {
  if (bound.has(client)) return client;
  const target = client as unknown as { send: (...args: unknown[]) => unknown };
  const send = (command: unknown, optionsOrCallback?: unknown, callback?: unknown): unknown => {
    const signal = current.getStore()?.signal;
    if (!signal || typeof optionsOrCallback === 'function') return target.send(command, optionsOrCallback, callback);
    const options = (optionsOrCallback ?? {}) as { abortSignal?: AbortSignal };
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, signal]) : signal;
    return target.send(command, { ...options, abortSignal }, callback);
  };
  const proxy = new Proxy(client, { get: (t, property, receiver) => (property === 'send' ? send : Reflect.get(t, property, receiver)) });
  bound.add(proxy);
  return proxy;
};
