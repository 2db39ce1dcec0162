import { parseSecretDocument } from './secrets-manager.js';
import {
  documentFingerprint,
  planRecordOf,
  planRotation,
  sameKeys,
  serializeKeyDocument,
  signingKey,
  toKeyDocument,
  type KeyDocument,
  type KeyEntry,
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
  /** Makes the pending document current; nothing when it already is. */
  promote(token: string): Promise<void>;
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
 * The promotion window of a rotation with this overlap: {@link PLAN_PROMOTION_WINDOW_SECONDS}, or a quarter of the
 * overlap when that is shorter (at least 5 s), so that a retiring key verifies for at most 1.25 times the overlap (a
 * local `rotate --overlap 20s`, whose steps run back to back, keeps its old key 25 s, not 5 minutes more).
 */
export const promotionWindowSeconds = (overlapSeconds: number): number =>
  Math.min(PLAN_PROMOTION_WINDOW_SECONDS, Math.max(5, Math.floor(overlapSeconds / 4)));

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

/** The key the provider signs with in the pending document when it differs from the current one: the switch this rotation makes. */
const switchOf = async (store: KeyDocumentStore, token: string, nowSeconds: number): Promise<KeyEntry | undefined> => {
  const pending = await store.readPending(token);
  if (pending === undefined) throw new Error(`rotation ${token}: no pending key document (createSecret has not run)`);
  const next = signingKey(documentOf(pending), nowSeconds);
  const before = signingKey(documentOf(await store.readCurrent()), nowSeconds);
  return next && next.secret !== before?.secret ? next : undefined;
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
  return {
    createSecret: async (token) => {
      if ((await options.store.readPending(token)) !== undefined) return;
      const currentText = await options.store.readCurrent();
      const current = documentOf(currentText);
      const nowSeconds = seconds();
      // A rotation that finished late made its document current long after its staged key's createdAt.
      const currentSinceSeconds = (await options.store.currentSince()) ?? nowSeconds;
      const plan = planRotation(current, {
        nowSeconds,
        cacheSeconds: options.cacheSeconds,
        // The promotion may come up to the window after the plan: the overlap counts from the latest one allowed.
        overlapSeconds: options.overlapSeconds + promotionWindowSeconds(options.overlapSeconds),
        generate: options.generate,
        currentSinceSeconds,
      });
      if (plan.switchTo) {
        const problem = switchProblem(plan.switchTo, labelOf(current, plan.switchTo), options.keyProblem);
        // Switched to it, the provider would sign every delivery with a key no function accepts (GitHub does not retry).
        if (problem)
          throw new Error(
            `rotation ${token}: ${problem}; the provider was not switched and nothing was written: remove the key from the key document (the next rotation stages a new one)`,
          );
      }
      await options.store.writePending(
        token,
        serializeKeyDocument(plan.document, { basis: documentFingerprint(currentText as string), at: nowSeconds }),
      );
    },
    setSecret: async (token) => {
      await holdOrWithdraw(options.store, token, 'setSecret', seconds(), promotionWindowSeconds(options.overlapSeconds));
      const key = await switchOf(options.store, token, seconds());
      if (key && options.provider) await options.provider.set(key.secret);
    },
    testSecret: async (token) => {
      const key = await switchOf(options.store, token, seconds());
      if (key && options.provider) await options.provider.test();
    },
    finishSecret: async (token) => {
      // Without a pending document (promoted already, locally) the store's promote says what there is to do.
      if ((await options.store.readPending(token)) !== undefined)
        await holdOrWithdraw(options.store, token, 'finishSecret', seconds(), promotionWindowSeconds(options.overlapSeconds));
      await options.store.promote(token);
    },
  };
};

/**
 * Checks that the plan of this token's pending document still holds (see {@link RotationSteps.finishSecret}); when it
 * does not, withdraws the pending document and throws, naming what changed and never a key. A pending document that
 * lists the current keys already (promoted, or a plan that changed nothing) holds.
 */
const holdOrWithdraw = async (
  store: KeyDocumentStore,
  token: string,
  step: 'setSecret' | 'finishSecret',
  nowSeconds: number,
  windowSeconds: number,
): Promise<void> => {
  const pendingText = await store.readPending(token);
  if (pendingText === undefined) throw new Error(`rotation ${token}: no pending key document (createSecret has not run)`);
  const currentText = await store.readCurrent();
  if (sameKeys(pendingText, currentText)) return;
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
  if (why === undefined) return;
  await store.withdraw(token);
  const provider =
    step === 'finishSecret' && switches && next
      ? `; if its setSecret ran, the provider signs with key ${labelOf(pending, next)}${current?.keys.some((key) => key.secret === next.secret) ? ', which the current document still accepts' : ', which the current document does not list'}`
      : '';
  throw new Error(
    `rotation ${token}: ${why}; its pending key document was withdrawn and nothing was ${step === 'setSecret' ? 'switched or ' : ''}promoted${provider}. Rotate again: the next rotation plans from the current document (on AWS Secrets Manager's retries of this version are refused; the next scheduled rotation, or rotate --stack, starts a new one)`,
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
