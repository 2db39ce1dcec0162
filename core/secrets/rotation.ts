import { parseSecretDocument } from './secrets-manager.js';
import { planRotation, serializeKeyDocument, signingKey, toKeyDocument, type KeyDocument, type KeyEntry } from './key-document.js';

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
  /** How long the previous key keeps verifying, seconds. */
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
  /** Switches the provider to the pending document's current key (nothing when the rotation only stages). */
  setSecret(token: string): Promise<void>;
  /** Proves the provider's deliveries are accepted (after a switch). */
  testSecret(token: string): Promise<void>;
  /** Makes the pending document current. */
  finishSecret(token: string): Promise<void>;
}

const documentOf = (text: string | undefined): KeyDocument => toKeyDocument(parseSecretDocument(text));

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
      const current = documentOf(await options.store.readCurrent());
      const nowSeconds = seconds();
      // A rotation that finished late made its document current long after its staged key's createdAt.
      const currentSinceSeconds = (await options.store.currentSince()) ?? nowSeconds;
      const plan = planRotation(current, {
        nowSeconds,
        cacheSeconds: options.cacheSeconds,
        overlapSeconds: options.overlapSeconds,
        generate: options.generate,
        currentSinceSeconds,
      });
      if (plan.switchTo) {
        const label = plan.switchTo.id ?? `keys[${current.keys.findIndex((key) => key.secret === plan.switchTo?.secret)}]`;
        const problem = switchProblem(plan.switchTo, label, options.keyProblem);
        // Switched to it, the provider would sign every delivery with a key no function accepts (GitHub does not retry).
        if (problem)
          throw new Error(
            `rotation ${token}: ${problem}; the provider was not switched and nothing was written: remove the key from the key document (the next rotation stages a new one)`,
          );
      }
      await options.store.writePending(token, serializeKeyDocument(plan.document));
    },
    setSecret: async (token) => {
      const key = await switchOf(options.store, token, seconds());
      if (key && options.provider) await options.provider.set(key.secret);
    },
    testSecret: async (token) => {
      const key = await switchOf(options.store, token, seconds());
      if (key && options.provider) await options.provider.test();
    },
    finishSecret: async (token) => {
      await options.store.promote(token);
    },
  };
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
