import { holdDeadline, inPluginChain, onInvocationEnd, runsOnPastTimeout, withinRemainingTime } from '../../deadline.js';
import { ConfigError, DeliveryInProgressError, DuplicateDeliveryError, HttpError, StoreUnavailableError } from '../../errors.js';
import type { SourceConfig } from '../../config/index.js';
import { wholeNumberProblem } from '../../config/rules.js';
import { clientKeyOf } from '../../net.js';
import type { RateLimit } from '../../rate-limit/sliding-window.js';
import { deliveryKey, type ClaimOptions, type ClaimResult, type DeliveryStore } from '../../stores/delivery-store.js';
import type { RateDecision, RateLimiter } from '../../stores/rate-limit-store.js';
import { countMetric, METRIC, type Telemetry } from '../../telemetry.js';
import { stateOf, withDefaults, type HttpMiddleware, type HttpRequest, type WebhookState } from '../types.js';
import { keepLease, type HeldLease } from './lease-keeper.js';

/** Options of {@link replayGuard}. */
export interface ReplayGuardOptions {
  readonly store: DeliveryStore;
  /**
   * `store`: the conditional write is the whole job (Hookwarden's own handler).
   * `process`: the record is written `processing` before the wrapped handler runs,
   * completed after it answers 2xx and removed if it throws or answers anything
   * else, so the provider's retry is processed, never lost.
   * @default 'process'
   */
  readonly mode?: 'store' | 'process';
  /**
   * How long a `processing` record holds off retries before it counts as abandoned (whole seconds, 1 to 86,400). Never less than the Lambda's
   * remaining time (plus a second): a handler still running when its lease lapsed would run again for the retry.
   * Where the runtime lets a handler run on past its timeout (the local server, whose context says so:
   * `markRunsOnPastTimeout`), the lease is renewed every third of it while the handler runs, and a copy of a delivery
   * whose handler still runs in this process is answered 409 whatever its record says. Lambda ends the handler instead.
   * @default the Lambda's remaining time (plus a second), else 60 seconds
   */
  readonly leaseSeconds?: number;
  /**
   * Counts authenticated deliveries against the source's `rateLimit` and
   * `clientRateLimit` (in parallel), before the delivery write: over a limit,
   * 429 `rate_limited`, nothing written to the deliveries table, nothing counted;
   * a duplicate gives its count back. `false` leaves the limits unenforced, on
   * purpose; left out while the source sets a limit, every delivery fails (500)
   * rather than pass unlimited.
   */
  readonly rateLimiter?: RateLimiter | false;
  /** For logging a failed cleanup. */
  readonly telemetry?: Telemetry;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

// `leaseSeconds`, `rateLimiter` and `telemetry` have no value as default: absent means the remaining time, no limit, no log.
const defaults: Required<Pick<ReplayGuardOptions, 'mode' | 'now'>> = { mode: 'process', now: Date.now };

/**
 * Counts the verified delivery against its rate limits (429 when over, nothing
 * written to the deliveries table), then stores it with one conditional write
 * keyed `source#deliveryId` (the replay guard): a live copy already stored throws {@link DuplicateDeliveryError}
 * (200 duplicate); one still being processed throws {@link DeliveryInProgressError}
 * (409 + Retry-After).
 */
export const replayGuard = (opts: ReplayGuardOptions): HttpMiddleware => {
  const problems = replayGuardProblems(opts);
  if (problems.length > 0) throw new ConfigError(problems);
  const options = withDefaults(defaults, opts);
  const { mode, now } = options;
  /** The lease of each claim a handler of this function holds, by its request's state. */
  const leases = new WeakMap<WebhookState, HeldLease>();
  /**
   * Deliveries whose handler still runs in this process, by `source#deliveryId`, where the runtime lets a handler run
   * on past its timeout (the local server; never on Lambda, which ends it). A copy of one is answered 409 before any
   * claim: a debugger paused at a breakpoint stops the renewal timer too, and the retry that arrives as it resumes must
   * not win the race to an expired lease.
   */
  const running = new Map<string, HeldLease>();
  /** Whether this guard has said that its chain was built without `hookwardenPlugin()` (once per container). */
  let saidNoPlugin = false;

  /** Stops renewing the lease of the claim `state` holds (the handler has settled); its lease as last written. */
  const settle = (state: WebhookState): HeldLease | undefined => {
    const held = leases.get(state);
    held?.stop();
    leases.delete(state);
    return held;
  };

  /**
   * Forgets a run once its complete or release has settled, not before: a copy that came while it was on its way took
   * a lease that had lapsed (a debugger pause stops the renewals) over and ran the handler a second time.
   */
  const forget = (source: string, deliveryId: string, held: HeldLease | undefined): void => {
    const key = deliveryKey(source, deliveryId);
    if (held && running.get(key) === held) running.delete(key);
  };

  /** The invocation's remaining time, whole seconds plus one: no call of this request runs past it. */
  const invocationOf = (request: HttpRequest): number | undefined => {
    const remaining = request.context.getRemainingTimeInMillis?.();
    return remaining && remaining > 0 ? Math.ceil(remaining / 1000) + 1 : undefined;
  };

  // Never shorter than the invocation: a lease that lapsed while the handler still ran let the provider's retry run it again.
  const leaseFor = (request: HttpRequest): number | undefined => {
    if (mode === 'store') return undefined;
    const invocation = invocationOf(request);
    if (options.leaseSeconds !== undefined) return Math.max(options.leaseSeconds, invocation ?? 0);
    return invocation ?? 60;
  };

  const replayGuardBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    const source = state.source as SourceConfig;
    const delivery = state.delivery;
    if (!delivery) throw new Error('replayGuard needs signatureVerifier before it');
    // A second Hookwarden around the same request (a wrapped handler wrapped again) would find the record the first
    // holds and answer 409 to every delivery, for ever: say what is wrong instead.
    if (state.claim)
      throw new Error(
        'replayGuard: this request already holds its delivery record: Hookwarden runs twice on it (a handler wrapped by withHookwarden, or by a chain with webhookMiddlewares, is wrapped again); wrap it once',
      );
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const headers: Record<string, string> = {};
    for (const name of source.scheme.keptHeaders) {
      const values = state.headers?.get(name);
      if (values && values.length > 0) headers[name] = values.join(', ').slice(0, 1024);
    }
    const eventType =
      delivery.eventType ?? source.scheme.eventTypeOf?.({ headers: state.headers ?? new Map(), body: state.body ?? Buffer.alloc(0) });
    const leaseSeconds = leaseFor(request);
    // Still running here: its record may show an expired lease (the renewal could not run), but it is not abandoned.
    const inProcess = mode === 'process' ? running.get(deliveryKey(source.name, delivery.deliveryId)) : undefined;
    if (inProcess) throw new DeliveryInProgressError(delivery.deliveryId, Math.max(1, inProcess.leaseExpiresAt - nowSeconds));
    const limits = limitsFor(source, state.client ? clientKeyOf(state.client.address) : 'unknown');
    // Counters first: a refused delivery never touches the deliveries table (no item, no stream record).
    let admissions: RateDecision[] = [];
    // A limit the configuration sets is never skipped because a chain was composed without a limiter.
    if (limits.length > 0 && options.rateLimiter === undefined)
      throw new Error(
        `replayGuard: source "${source.name}" sets a rate limit but no rateLimiter was given (pass one, or false to leave it unenforced)`,
      );
    if (options.rateLimiter) {
      try {
        admissions = await admit(options.rateLimiter, limits, nowMs);
      } catch (error) {
        // A copy of a stored delivery is answered as the duplicate it is, even over the limit (one read, refusals only).
        if (error instanceof HttpError && error.statusCode === 429)
          await refuseAsDuplicate(options.store, source.name, delivery.deliveryId, nowSeconds);
        throw error;
      }
    }
    let result: ClaimResult;
    try {
      result = await options.store.claim(
        {
          source: source.name,
          deliveryId: delivery.deliveryId,
          ...(delivery.providerId ? { providerId: delivery.providerId } : {}),
          receivedAt: state.receivedAt ?? nowMs,
          expiresAt: expiresAtOf(source, delivery.timestampSeconds, nowSeconds),
          ...(eventType ? { eventType } : {}),
          headers,
          body: state.body ?? Buffer.alloc(0),
          clientIp: state.client?.address.ip ?? 'unknown',
        },
        claimOptionsOf(nowSeconds, leaseSeconds, invocationOf(request)),
      );
    } catch (error) {
      await giveBack(admissions);
      throw error;
    }
    if (result.outcome === 'duplicate') {
      await giveBack(admissions);
      throw copyOf(delivery.deliveryId, result, nowSeconds);
    }
    // The handler is about to run: the request's deadline (core/deadline.ts) must no longer answer for it. If it
    // has already passed, the request is answered 503 whatever happens here: the handler must not run behind that
    // answer (Lambda freezes it, and the sender's retry after the lease would run it again). Give the claim back.
    if (mode === 'process' && !holdDeadline()) {
      await withinRemainingTime(request.context, () => options.store.release(source.name, delivery.deliveryId, result.token)).catch(
        (error: unknown) =>
          options.telemetry?.logger.error('could not release delivery record', {
            source: source.name,
            deliveryId: delivery.deliveryId,
            error,
          }),
      );
      throw new StoreUnavailableError(new Error("the request's deadline passed as its delivery was claimed; the claim was given back"));
    }
    // In `store` mode the delivery is stored, not held: nothing is released or completed for it.
    if (mode !== 'process' || leaseSeconds === undefined) return;
    state.claim = { token: result.token, deliveryId: delivery.deliveryId };
    const renew = runsOnPastTimeout(request.context);
    const held = keepLease({
      store: options.store,
      source: source.name,
      deliveryId: delivery.deliveryId,
      token: result.token,
      leaseSeconds,
      leaseExpiresAt: nowSeconds + leaseSeconds,
      now,
      renew,
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    });
    leases.set(state, held);
    if (renew) running.set(deliveryKey(source.name, delivery.deliveryId), held);
    if (!saidNoPlugin && !inPluginChain(request.context)) {
      saidNoPlugin = true;
      options.telemetry?.logger.warn(NO_PLUGIN, { source: source.name });
    }
    // A middleware after this one that answers early (or an onError hook before this one's that throws) leaves Middy
    // to run no hook of this guard's: the claim was never settled, its lease was renewed for as long as the process
    // lived, and every copy was 409. Where the runtime or the chain's plugin (hookwardenPlugin) says when the invocation
    // ends, it is settled then, by the answer given: a 2xx completes it (a copy is a duplicate), anything else gives it
    // back (a copy is processed).
    onInvocationEnd(request.context, () => settleLeftOver(request));
  };

  /** Settles a claim that no hook of this guard's settled, once its invocation has ended (see {@link onInvocationEnd}). */
  const settleLeftOver = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    if (!state.claim || !leases.has(state)) return;
    // Read guarded: an answer whose statusCode getter threw ended the settlement here, and the claim stayed held.
    let statusCode: number | undefined;
    try {
      statusCode = statusOf(request.response);
    } catch {
      // Logged without it; replayGuardAfter's own read throws too, and the claim is given back.
    }
    options.telemetry?.logger.warn(
      "replayGuard: the invocation ended without this guard's after or onError hook (a middleware after it answered early, or an onError hook before it threw); its claim is settled by the answer given. Refuse by throwing an HttpError instead",
      { source: state.source?.name, deliveryId: state.claim.deliveryId, statusCode },
    );
    try {
      await replayGuardAfter(request);
    } catch {
      // No answer API Gateway can send: given back, as replayGuardAfter's own throw would have had it.
      await replayGuardOnError(request);
    }
  };

  /**
   * A complete or release that found the record held by another claim: the handler ran past its lease, a retry took
   * the delivery over and may have run the handler a second time. The store changes nothing then; the team must hear
   * of it (a warning and a metric, for an alarm), never the body, a secret or a signature.
   */
  const leaseLost = (source: string, deliveryId: string, step: 'complete' | 'release', held: HeldLease | undefined): void => {
    if (!options.telemetry) return;
    options.telemetry.logger.warn('delivery lease lost: the handler ran past its lease and the delivery may have been processed twice', {
      source,
      deliveryId,
      step,
      ...(held ? { leaseExpiresAt: held.leaseExpiresAt } : {}),
    });
    countMetric(options.telemetry.metrics, METRIC.leaseLost, {});
  };

  /** Removes the record this invocation holds (the handler threw or refused the delivery), so the provider's retry is processed. */
  const replayGuardOnError = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    // In `store` mode the delivery is durably stored once claimed: keep it, a retry is a duplicate. A claim another guard
    // made (Hookwarden composed twice on one request) is that guard's to settle: given back here, the other's record of a
    // handler running in this process stayed, and every copy was 409 for as long as the process lived.
    if (mode !== 'process' || !state.claim || !state.source || !leases.has(state)) return;
    // A handler that threw the guard's own DuplicateDeliveryError (it found the delivery already done) is answered 200
    // `duplicate`, which the provider never retries: its record is completed as for any 2xx. Given back, every copy
    // ran the handler again.
    if (request.error instanceof DuplicateDeliveryError) return completeClaim(request);
    const claim = state.claim;
    const source = state.source.name;
    if (isMiddyEarlyTimeout(request.error))
      options.telemetry?.logger.error(
        "replayGuard: Middy answered at its early timeout while the handler still ran (the chain was built without hookwardenPlugin()): the delivery is given back, and the provider's retry may run the handler a second time",
        { source, deliveryId: claim.deliveryId },
      );
    state.claim = undefined;
    const held = settle(state);
    try {
      // Its own time (the request's deadline stopped at the claim): what the function has left, less the answer's.
      const released = await withinRemainingTime(request.context, () => options.store.release(source, claim.deliveryId, claim.token));
      // Only past the lease: a takeover cannot come before it, but a release whose first answer was lost, resent after
      // the sender's retry claimed the delivery anew, also finds another claim there, and lost nothing.
      if (released === false && (held === undefined || Math.floor(now() / 1000) >= held.leaseExpiresAt))
        leaseLost(source, claim.deliveryId, 'release', held);
    } catch (error) {
      // The record stays until its lease (or TTL) passes; the sender's retry then succeeds.
      options.telemetry?.logger.error('could not release delivery record', {
        source: state.source.name,
        deliveryId: claim.deliveryId,
        error,
      });
    } finally {
      forget(source, claim.deliveryId, held);
    }
  };

  const replayGuardAfter = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    if (mode !== 'process' || !state.claim || !state.source || !leases.has(state)) return;
    // An answer API Gateway cannot send (none, a string, an object without statusCode) left the sender a bare 502, no
    // headers or request id, or failed later with a TypeError quoting it: it is the handler's error, and the record is
    // given back as for any other (onError).
    const answer: unknown = request.response;
    const status = statusOf(answer);
    if (status === undefined)
      throw new Error(`the handler answered ${answerKind(answer)}, not an API Gateway proxy result ({ statusCode, body })`);
    // A handler that answers anything but 2xx has not taken the delivery (the provider retries it): its retry must reach the
    // handler again, not be told 200 duplicate.
    if (status < 200 || status > 299) return replayGuardOnError(request);
    return completeClaim(request);
  };

  /** Marks the claim this invocation holds processed (the chain answered 2xx): from here on nothing may remove it. */
  const completeClaim = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    if (!state.claim || !state.source) return;
    const claim = state.claim;
    const source = state.source.name;
    // The handler has done its work: from here on, nothing may remove the record.
    state.claim = undefined;
    const held = settle(state);
    try {
      // Bounded so that the 2xx still goes out: a Lambda timeout (502/504) would have the sender retry it.
      const completed = await withinRemainingTime(request.context, () => options.store.complete(source, claim.deliveryId, claim.token));
      // The answer stands (its work is done); the retry that took over has its own claim.
      if (completed === false) leaseLost(source, claim.deliveryId, 'complete', held);
    } catch (error) {
      // Answering 5xx now would invite a retry; the record stays `processing` until its lease passes.
      options.telemetry?.logger.error('could not mark delivery processed', {
        source: state.source.name,
        deliveryId: claim.deliveryId,
        error,
      });
    } finally {
      forget(source, claim.deliveryId, held);
    }
  };

  return { before: replayGuardBefore, after: replayGuardAfter, onError: replayGuardOnError };
};

/**
 * What a chain built without `hookwardenPlugin()` is told, once per container. Its lack went unnoticed: Middy's own
 * early timeout answered 500 while the handler still ran and the delivery was given back, so the provider's retry
 * ran the handler a second time (on Lambda, the first run resumes when its container is next thawed).
 */
const NO_PLUGIN =
  "replayGuard: this chain was built without hookwardenPlugin(); build it with middy(handler, hookwardenPlugin()). Without it, Middy's early timeout answers while the handler still runs and gives its delivery back (the provider's retry runs the handler a second time), and a claim left by a middleware that answers early after this guard is held (409) until its lease";

/** Middy's own early-timeout error (its default `timeoutEarlyResponse`): the handler was still running when it came. */
const isMiddyEarlyTimeout = (error: unknown): boolean =>
  error instanceof Error && error.name === 'TimeoutError' && (error.cause as { package?: unknown } | undefined)?.package === '@middy/core';

/** The longest lease a handler may hold a delivery for: a day. */
const MAX_LEASE_SECONDS = 86_400;

/**
 * The problems of `mode` and `leaseSeconds` as JavaScript without types may give them, each naming its option. A
 * misspelt mode (`'processs'`) ran as `store`: the record was kept when the handler threw, so the provider's retry was
 * told 200 duplicate and the delivery lost. A `leaseSeconds` of `NaN` failed every delivery with a DynamoDB
 * `ValidationException` (500); below 1, it fell back on the invocation's time alone.
 */
export const replayGuardProblems = (options: Pick<ReplayGuardOptions, 'mode' | 'leaseSeconds'>, where = 'replayGuard'): string[] => {
  const problems: string[] = [];
  const { mode, leaseSeconds } = options as { mode?: unknown; leaseSeconds?: unknown };
  if (mode !== undefined && mode !== 'store' && mode !== 'process')
    problems.push(
      `${where}.mode: must be 'process' or 'store', got ${typeof mode === 'string' ? JSON.stringify(mode.slice(0, 32)) : String(mode)}`,
    );
  const lease = wholeNumberProblem(leaseSeconds, 1, MAX_LEASE_SECONDS, 'seconds');
  if (lease) problems.push(`${where}.leaseSeconds: ${lease}`);
  return problems;
};

/**
 * When the record of a delivery expires: after the source's retention, and never before every copy of it has stopped
 * verifying. A copy verifies while its signed timestamp is at most `maxAgeSeconds` old, and a record is expired from
 * its `expiresAt` second on: kept only `retentionSeconds` (twice the maximum age at least), the record of a delivery
 * signed the whole maximum age ahead expired at the last second a copy still verified, and that copy was stored again.
 * One second more covers a clock tick between a copy's signature check and its claim.
 */
const expiresAtOf = (source: SourceConfig, timestampSeconds: number | undefined, nowSeconds: number): number =>
  timestampSeconds === undefined
    ? nowSeconds + source.retentionSeconds
    : Math.max(nowSeconds + source.retentionSeconds, timestampSeconds + source.maxAgeSeconds + 2);

/**
 * What the claim is told: the wrapped handler's lease, or (stored at once) how long a large body's record may hold
 * while its parts are written, the invocation's time: its writes stop at the request's deadline, before it ends.
 */
const claimOptionsOf = (nowSeconds: number, leaseSeconds: number | undefined, invocationSeconds: number | undefined): ClaimOptions => {
  if (leaseSeconds !== undefined) return { nowSeconds, leaseSeconds };
  return invocationSeconds === undefined ? { nowSeconds } : { nowSeconds, storingLeaseSeconds: invocationSeconds };
};

/**
 * The status of an answer API Gateway can send (an object whose statusCode is an HTTP status: a whole number from 100
 * to 599, or its three digits as text, as AWS's own blueprints answer), else `undefined`. `NaN`, `'accepted'` or
 * `202.5` compare as neither below 200 nor above 299: they were taken for a 2xx, the record marked stored, while
 * API Gateway answered the sender 502 and its retry was told 200 duplicate.
 */
const statusOf = (answer: unknown): number | undefined => {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const sent = (answer as { statusCode?: unknown }).statusCode;
  const status = typeof sent === 'string' && /^[0-9]{3}$/.test(sent) ? Number(sent) : sent;
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
};

/** What a handler answered instead of a proxy result, without its content (it may quote the body). */
const answerKind = (answer: unknown): string => {
  if (answer === null || answer === undefined) return String(answer);
  if (Array.isArray(answer)) return 'an array';
  if (typeof answer !== 'object') return `a ${typeof answer}`;
  const status = (answer as { statusCode?: unknown }).statusCode;
  return status === undefined || status === null ? 'an object without statusCode' : 'an object whose statusCode is no HTTP status';
};

/** The limits that apply to a delivery of this source from this client, with their keys. */
const limitsFor = (source: SourceConfig, clientKey: string): Array<{ key: string; rate: RateLimit; name: string }> => [
  ...(source.rateLimit ? [{ key: `source:${source.name}`, rate: source.rateLimit, name: 'source' }] : []),
  ...(source.clientRateLimit ? [{ key: `client:${source.name}:${clientKey}`, rate: source.clientRateLimit, name: 'client' }] : []),
];

/**
 * Counts the delivery against every limit that applies, in parallel (one round
 * trip). Any refusal or store failure gives back the admissions already made
 * and throws: 429 `rate_limited`, or the store's error (503, fail closed).
 */
const admit = async (
  limiter: RateLimiter,
  limits: ReadonlyArray<{ key: string; rate: RateLimit }>,
  nowMs: number,
): Promise<RateDecision[]> => {
  if (limits.length === 0) return [];
  const decisions = await Promise.allSettled(limits.map(({ key, rate }) => limiter.hit(key, rate, nowMs)));
  const admitted = decisions.flatMap((d) => (d.status === 'fulfilled' && d.value.admitted ? [d.value] : []));
  const refused = decisions.flatMap((d) => (d.status === 'fulfilled' && !d.value.admitted ? [d.value] : []));
  const failure = decisions.find((d) => d.status === 'rejected') as PromiseRejectedResult | undefined;
  if (!failure && refused.length === 0) return admitted;
  await giveBack(admitted);
  if (failure) throw failure.reason;
  throw rateLimited(refused);
};

/** Throws the duplicate answer when a live copy of this delivery is already stored; a failed read changes nothing. */
const refuseAsDuplicate = async (store: DeliveryStore, source: string, deliveryId: string, nowSeconds: number): Promise<void> => {
  // The state alone where the store can give it: a large body's parts are hundreds of kilobytes a copy otherwise.
  const read = store.stateOf ? store.stateOf(source, deliveryId, nowSeconds) : store.get(source, deliveryId, nowSeconds);
  const existing = await read.catch(() => undefined);
  if (existing) throw copyOf(deliveryId, existing, nowSeconds);
};

/** The answer to a copy of a live record: 200 duplicate when stored, 409 + Retry-After while a handler still holds it. */
const copyOf = (
  deliveryId: string,
  existing: { readonly status: 'stored' | 'processing'; readonly leaseExpiresAt?: number },
  nowSeconds: number,
): HttpError =>
  existing.status === 'stored'
    ? new DuplicateDeliveryError(deliveryId)
    : new DeliveryInProgressError(deliveryId, Math.max(1, (existing.leaseExpiresAt ?? nowSeconds + 1) - nowSeconds));

/** Undoes admissions of a delivery that was not stored after all (a duplicate, a refusal, a failure). Best effort. */
const giveBack = async (admitted: readonly RateDecision[]): Promise<void> => {
  await Promise.allSettled(admitted.map((d) => d.undo()));
};

/** 429 with `Retry-After` and the IETF draft's `RateLimit-Policy` / `RateLimit` headers for the tightest refusal. */
const rateLimited = (refused: readonly RateDecision[]): HttpError => {
  const worst = [...refused].sort((a, b) => b.retryAfterSeconds - a.retryAfterSeconds)[0] as RateDecision;
  return new HttpError(429, 'rate_limited', 'Too many deliveries; retry later.', {
    headers: {
      'Retry-After': String(worst.retryAfterSeconds),
      'RateLimit-Policy': `"webhooks";q=${worst.limit};w=${worst.windowSeconds}`,
      RateLimit: `"webhooks";r=0;t=${worst.retryAfterSeconds}`,
    },
    details: { limit: worst.limit, windowSeconds: worst.windowSeconds },
  });
};
