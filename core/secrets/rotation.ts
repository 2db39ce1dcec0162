import { parseSecretDocument } from './secrets-manager.js';
import {
  documentFingerprint,
  isValid,
  planRecordOf,
  planRotation,
  sameKeys,
  serializeKeyDocument,
  signingKey,
  toKeyDocument,
  type KeyDocument,
  type KeyEntry,
  type PlanOptions,
  type RotationPlan,
} from './key-document.js';

/**
 * Where a source's key document lives, with Secrets Manager's versions: the
 * current document (what the functions read) and a pending one per rotation
 * token. Secrets Manager locally is a pair of files (core/secrets/key-files.ts).
 */
export interface KeyDocumentStore {
  /** The document the functions read (`AWSCURRENT`). */
  readCurrent(): Promise<string | undefined>;
  /** The pending document of this rotation (`AWSPENDING` with this version id), if written. */
  readPending(token: string): Promise<string | undefined>;
  /** Writes the pending document of this rotation. */
  writePending(token: string, text: string): Promise<void>;
  /**
   * Makes the pending document current; nothing when it already is. `expectedCurrent`: the current document's text the
   * caller checked the plan against; the document is made current only in place of one holding that text (an edit
   * landing after the check makes it fail, and is never undone).
   */
  promote(token: string, expectedCurrent?: string): Promise<void>;
  /**
   * Withdraws this rotation's pending document, which must never become current (Secrets Manager: `AWSPENDING` off
   * its version, so its retries are refused and the next rotation may start; locally: the pending file removed).
   */
  withdraw(token: string): Promise<void>;
  /**
   * When the current document became current, epoch seconds: the latest time
   * its promotion may have happened, never an earlier one (a later answer only
   * delays a switch; an earlier one could switch the provider to a key some
   * functions do not have yet). `undefined` when the store cannot tell: the
   * rotation then counts the document as current from now.
   */
  currentSince(): Promise<number | undefined>;
}

/**
 * The tag a promotion writes on the secret: `<version id>@<epoch seconds>`, the
 * version it made current and a time taken after the label moved (ahead of the
 * move, the latest time the move can happen: {@link PROMOTION_WITHIN_SECONDS}). A version's
 * value cannot change once written, and Secrets Manager records no time of a
 * label move: the next rotation reads this to know since when the functions
 * have been given the current document.
 */
export const CURRENT_SINCE_TAG = 'hookwarden:current-since';

/**
 * The rotation function's timeout, seconds: a label move it asks for happens within this long of the request, or
 * not at all. A promotion first tags the secret with this bound ahead of the move, so that a tag that fails after the
 * move (and a Secrets Manager that does not count a label move in `LastChangedDate`) cannot leave a time before it.
 */
export const PROMOTION_WITHIN_SECONDS = 60;

/**
 * How long after its plan a rotation that switches the provider may make its document current, seconds, at most: the
 * keys it retires keep verifying for the overlap plus this window from the plan, so for at least the overlap after the
 * promotion. A later setSecret or finishSecret (Secrets Manager retrying a failed step, hours on) withdraws the rotation
 * instead: the next one plans from the current document, with a whole overlap. Four steps of at most a minute each fit in it.
 */
export const PLAN_PROMOTION_WINDOW_SECONDS = 300;

/**
 * How long a GitHub switch and its test may take, seconds: the PATCH, then a ping GitHub answers within 30 s (the
 * confirm timeout of core/secrets/github-hook.ts), and the API calls around them. A `github` rotation's promotion window is
 * at least this: a shorter one withdrew a rotation whose ping was simply slow, after GitHub had been switched.
 */
export const GITHUB_SWITCH_SECONDS = 60;

/**
 * The promotion window of a rotation with this overlap: {@link PLAN_PROMOTION_WINDOW_SECONDS}, or a quarter of the
 * overlap when that is shorter (at least 5 s, and at least `switchSeconds`, what the provider's switch and test take),
 * so that a retiring key verifies for at most 1.25 times the overlap, or the overlap and `switchSeconds` (a local
 * `rotate --overlap 20s` of a `shared` source, whose steps run back to back, keeps its old key 25 s, not 5 minutes more).
 */
export const promotionWindowSeconds = (overlapSeconds: number, switchSeconds = 0): number =>
  Math.min(PLAN_PROMOTION_WINDOW_SECONDS, Math.max(5, Math.floor(overlapSeconds / 4), switchSeconds));

/** What the provider side of a rotation does: set its copy of the key, and prove a delivery signed with it is accepted. */
export interface ProviderSwitch {
  /** Describes the provider in messages (`GitHub hook acme/shop #42`). */
  readonly name: string;
  /** Makes the provider sign with `secret` (GitHub: PATCH the hook's config). Safe to repeat. */
  set(secret: string): Promise<void>;
  /** Proves the pipeline accepts the provider's deliveries now (GitHub: a ping, answered 2xx). */
  test(): Promise<void>;
}

/** Options of {@link rotationSteps}. */
export interface RotationStepsOptions {
  readonly store: KeyDocumentStore;
  /** `undefined` for `shared`: the sender reads the key document itself. */
  readonly provider?: ProviderSwitch;
  /** Makes a new key in the source scheme's format. */
  readonly generate: () => string;
  /** The functions' key cache period, seconds. */
  readonly cacheSeconds: number;
  /** How long the previous key keeps verifying after the promotion, seconds (at most its {@link promotionWindowSeconds} more). */
  readonly overlapSeconds: number;
  /**
   * How long the provider's switch and its test may take, seconds ({@link GITHUB_SWITCH_SECONDS} for a `github` source):
   * the promotion window is at least this. Given to every step of the rotation, including those that make no provider
   * call (createSecret sizes the retiring keys' expiry with it). @default 0 (`shared`: no provider call)
   */
  readonly switchSeconds?: number;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /**
   * Why the functions could not use a key (`keyProblem` of core/secrets/keys.ts with the source's scheme), `undefined` when they can:
   * the provider is never switched to such a key. @default every key is usable
   */
  readonly keyProblem?: (secret: string) => string | undefined;
}

/**
 * Why the provider must not switch to `key`, the staged key of the current document: the functions skip a key their
 * scheme cannot decode, and refuse one past its `notAfter` (a staged key keeps it when promoted). `undefined` when it may.
 */
const switchProblem = (
  key: KeyEntry,
  label: string,
  problemOf: ((secret: string) => string | undefined) | undefined,
): string | undefined => {
  const problem = problemOf?.(key.secret);
  if (problem !== undefined) return `the staged key ${label} ${problem}, so the functions skip it`;
  if (key.notAfter !== undefined)
    return `the staged key ${label} expires at ${new Date(key.notAfter * 1000).toISOString()}, after which the functions refuse it`;
  return undefined;
};

/** The four steps of a Secrets Manager rotation, each safe to run again with the same token. */
export interface RotationSteps {
  /** Plans the rotation and writes the pending document (nothing when this token's pending document exists). */
  createSecret(token: string): Promise<void>;
  /**
   * Switches the provider to the pending document's current key (nothing when the rotation only stages). Withdraws the
   * rotation instead, and fails naming why, when its plan no longer holds (see {@link RotationSteps.finishSecret}).
   */
  setSecret(token: string): Promise<void>;
  /** Proves the provider's deliveries are accepted (after a switch). */
  testSecret(token: string): Promise<void>;
  /**
   * Makes the pending document current, if its plan still holds: the current document is the one it was planned from
   * (an operator's edit meanwhile, a leaked key removed, is never undone), and a switch comes within
   * its {@link promotionWindowSeconds} of the plan (its retiring keys get their whole overlap). Otherwise it withdraws
   * the rotation and fails naming what changed, never a key: the next rotation plans again from the current document.
   */
  finishSecret(token: string): Promise<void>;
}

const documentOf = (text: string | undefined): KeyDocument => toKeyDocument(parseSecretDocument(text));

/** The staged key's name in messages: its id, else its position. */
const labelOf = (document: KeyDocument, key: KeyEntry): string =>
  key.id ?? `keys[${document.keys.findIndex((entry) => entry.secret === key.secret)}]`;

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/**
 * Why a step finds no pending document of its rotation: locally a second `rotate` of the source replaces the first
 * one's pending file, which then fails here (having run createSecret).
 */
const noPending = (token: string): Error =>
  new Error(
    `rotation ${token}: no pending key document (createSecret has not run, or another rotation of the source replaced or withdrew this one's): run rotate again once no other rotation of the source runs`,
  );

/** The key the provider signs with in the pending document when it differs from the current one: the switch this rotation makes. */
const switchOf = async (store: KeyDocumentStore, token: string, nowSeconds: number): Promise<KeyEntry | undefined> => {
  const pending = await store.readPending(token);
  if (pending === undefined) throw noPending(token);
  const next = signingKey(documentOf(pending), nowSeconds);
  const before = signingKey(documentOf(await store.readCurrent()), nowSeconds);
  return next && next.secret !== before?.secret ? next : undefined;
};

/** Why createSecret made no plan: the current document names no key a rotation may plan from, or a staged key the provider must not get. */
export class RotationNotPlanned extends Error {
  override readonly name = 'RotationNotPlanned';
}

const UNDO_STOP =
  'the source accepts no delivery, and a rotation would make a key and switch the provider to it, undoing that stop; nothing was written. To bring the source back, put a new key in the document by hand (and give it to the hook or the sender): the next rotation plans from it';

/**
 * The plan of a rotation from the current document's text, or why there is none (never a key): a document that cannot be
 * read, one that lists no key valid now (emptied, `{"keys":[]}`, the emergency stop, or every key past its `notAfter`), or
 * a staged key the provider must not be switched to ({@link switchProblem}). Each holds until someone edits the document.
 */
const planOrProblem = (
  currentText: string | undefined,
  options: Pick<RotationStepsOptions, 'keyProblem'>,
  planOptions: PlanOptions,
): { plan: RotationPlan } | { problem: string } => {
  let current: KeyDocument;
  try {
    current = toKeyDocument(parseSecretDocument(currentText, { allowEmpty: true }));
  } catch (error) {
    // MalformedSecretError names the problem, never the value.
    return {
      problem: `the current key document cannot be read (${(error as Error).message}); nothing was written: fix the document, the next rotation plans from it`,
    };
  }
  if (current.keys.length === 0) return { problem: `the current key document lists no key ({"keys":[]}, an emergency stop): ${UNDO_STOP}` };
  if (!current.keys.some((key) => isValid(key, planOptions.nowSeconds)))
    return { problem: `every key of the current key document is past its notAfter: ${UNDO_STOP}` };
  const plan = planRotation(current, planOptions);
  if (plan.switchTo) {
    const problem = switchProblem(plan.switchTo, labelOf(current, plan.switchTo), options.keyProblem);
    // Switched to it, the provider would sign every delivery with a key no function accepts (GitHub does not retry).
    if (problem)
      return {
        problem: `${problem}; the provider was not switched and nothing was written: remove the key from the key document (the next rotation stages a new one)`,
      };
  }
  return { plan };
};

/**
 * The rotation steps over a {@link KeyDocumentStore}, shared by the rotation
 * function (Secrets Manager calls each step) and `hookwarden rotate` (which
 * runs them in order). The plan is {@link planRotation}: the provider only
 * ever switches to a key every function has accepted for a cache period,
 * counted from when the document holding it became current (the store's
 * {@link KeyDocumentStore.currentSince}), not from when it was written.
 */
export const rotationSteps = (options: RotationStepsOptions): RotationSteps => {
  // NaN or 0 would count every staged key as ready (a NaN comparison is false): the provider switched at once.
  if (!Number.isFinite(options.cacheSeconds) || options.cacheSeconds <= 0)
    throw new Error(`the key cache period must be a positive number of seconds, got ${String(options.cacheSeconds)}`);
  const now = options.now ?? Date.now;
  const seconds = (): number => Math.floor(now() / 1000);
  const windowSeconds = promotionWindowSeconds(options.overlapSeconds, options.switchSeconds);
  return {
    createSecret: async (token) => {
      if ((await options.store.readPending(token)) !== undefined) return;
      const currentText = await options.store.readCurrent();
      const nowSeconds = seconds();
      // A rotation that finished late made its document current long after its staged key's createdAt.
      const currentSinceSeconds = (await options.store.currentSince()) ?? nowSeconds;
      const planned = planOrProblem(currentText, options, {
        nowSeconds,
        cacheSeconds: options.cacheSeconds,
        // The promotion may come up to the window after the plan: the overlap counts from the latest one allowed.
        overlapSeconds: options.overlapSeconds + windowSeconds,
        generate: options.generate,
        currentSinceSeconds,
      });
      if ('problem' in planned) {
        // Left pending, the version kept AWSPENDING without a value: RotateSecret (rotate --stack) was refused as "a previous
        // rotation isn't complete", and Secrets Manager retried this same token, failing the same way until the document changed.
        let withdrawn =
          "this rotation was withdrawn (on AWS its version lost AWSPENDING: Secrets Manager's retries of it are refused, and the next scheduled rotation, or rotate --stack, starts a new one)";
        try {
          await options.store.withdraw(token);
        } catch (error) {
          withdrawn = `withdrawing this rotation failed too (${(error as Error).name}): its retries fail the same way until the document is fixed`;
        }
        throw new RotationNotPlanned(`rotation ${token}: ${planned.problem}; ${withdrawn}`);
      }
      await options.store.writePending(
        token,
        serializeKeyDocument(planned.plan.document, { basis: documentFingerprint(currentText as string), at: nowSeconds }),
      );
    },
    setSecret: async (token) => {
      await holdOrWithdraw(options.store, token, 'setSecret', seconds(), windowSeconds);
      const key = await switchOf(options.store, token, seconds());
      if (key && options.provider) await options.provider.set(key.secret);
    },
    testSecret: async (token) => {
      const key = await switchOf(options.store, token, seconds());
      if (key && options.provider) await options.provider.test();
    },
    finishSecret: async (token) => {
      // Without a pending document (promoted already, locally) the store's promote says what there is to do.
      if ((await options.store.readPending(token)) === undefined) return options.store.promote(token);
      const checked = await holdOrWithdraw(options.store, token, 'finishSecret', seconds(), windowSeconds);
      try {
        await options.store.promote(token, checked);
      } catch (error) {
        // An edit that landed between the check and the move (Secrets Manager refuses a move off a version no longer
        // current): withdrawn as if it had landed before. Anything else (promoted already, throttled) fails as it was.
        await holdOrWithdraw(options.store, token, 'finishSecret', seconds(), windowSeconds);
        throw error;
      }
    },
  };
};

/**
 * Checks that the plan of this token's pending document still holds (see {@link RotationSteps.finishSecret}); when it
 * does not, withdraws the pending document and throws, naming what changed and never a key. A pending document that
 * lists the current keys already (promoted, or a plan that changed nothing) holds.
 * @returns the current document's text it checked against
 */
const holdOrWithdraw = async (
  store: KeyDocumentStore,
  token: string,
  step: 'setSecret' | 'finishSecret',
  nowSeconds: number,
  windowSeconds: number,
): Promise<string | undefined> => {
  const pendingText = await store.readPending(token);
  if (pendingText === undefined) throw noPending(token);
  const currentText = await store.readCurrent();
  if (sameKeys(pendingText, currentText)) return currentText;
  const plan = planRecordOf(pendingText);
  const pending = documentOf(pendingText);
  let current: KeyDocument | undefined;
  try {
    current = documentOf(currentText);
  } catch {
    // Emptied (an emergency stop) or damaged since the plan, which read it: a changed document, withdrawn below.
    current = undefined;
  }
  const next = signingKey(pending, nowSeconds);
  const switches = next !== undefined && (current === undefined || next.secret !== signingKey(current, nowSeconds)?.secret);
  let why: string | undefined;
  if (!plan) why = 'its pending key document records no plan (written before plans were recorded), so what it was planned from is unknown';
  else if (currentText === undefined || plan.basis !== documentFingerprint(currentText))
    why = `the current key document changed after this rotation planned from it at ${iso(plan.at)} (edited, or made current some other way): promoting the planned document would undo that change`;
  else if (switches && nowSeconds > plan.at + windowSeconds)
    why = `it planned at ${iso(plan.at)} to switch the provider, and ${step} runs more than ${windowSeconds} s after: the keys it retires would verify for less than the overlap after its promotion`;
  if (why === undefined) return currentText;
  await store.withdraw(token);
  // A retried setSecret follows an attempt that may have switched the provider before it failed (a lost answer, a timeout).
  const provider =
    switches && next
      ? `; if ${step === 'setSecret' ? 'an earlier attempt of this setSecret' : 'its setSecret'} ran, the provider signs with key ${labelOf(pending, next)}${current?.keys.some((key) => key.secret === next.secret) ? ', which the current document still accepts' : ', which the current document does not list'}`
      : '';
  throw new Error(
    `rotation ${token}: ${why}; its pending key document was withdrawn and nothing was ${step === 'setSecret' ? 'switched by this attempt or ' : ''}promoted${provider}. Rotate again: the next rotation plans from the current document (on AWS Secrets Manager's retries of this version are refused; the next scheduled rotation, or rotate --stack, starts a new one)`,
  );
};

/** What one complete rotation did, for the command line. */
export interface RotationOutcome {
  /** The key the provider now signs with, when this rotation switched. */
  readonly switchedTo?: KeyEntry;
  /** The key staged for the next rotation. */
  readonly staged?: KeyEntry;
  /** The document now current. */
  readonly document: KeyDocument;
}

/** Runs the four steps in order with one token, as Secrets Manager would. */
export const rotateNow = async (
  steps: RotationSteps,
  store: KeyDocumentStore,
  token: string,
  now: () => number = Date.now,
): Promise<RotationOutcome> => {
  await steps.createSecret(token);
  const switched = await switchOf(store, token, Math.floor(now() / 1000));
  await steps.setSecret(token);
  await steps.testSecret(token);
  await steps.finishSecret(token);
  const document = documentOf(await store.readCurrent());
  const staged = document.keys.find((key) => key.next);
  return { document, ...(switched ? { switchedTo: switched } : {}), ...(staged ? { staged } : {}) };
};
