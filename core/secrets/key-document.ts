import { createHash, randomBytes } from 'node:crypto';
import type { SecretDocument } from './secrets-manager.js';

/**
 * One key of a key document, as stored locally and in Secrets Manager:
 * `{"id":"k-1a2b3c4d","secret":"...","createdAt":1767225600,"notAfter":1767312000,"next":true}`.
 * Every key that has not passed `notAfter` verifies. `next` marks the staged
 * key: accepted by the functions, not yet used by the provider.
 */
export interface KeyEntry {
  readonly secret: string;
  /** Epoch seconds after which the key no longer verifies. @default - no expiry */
  readonly notAfter?: number;
  /** A name for the key, shown by `hookwarden keys` (never the value). @default - its position */
  readonly id?: string;
  /** When the key entered the document, epoch seconds. @default - unknown (older documents) */
  readonly createdAt?: number;
  /** Staged for the next switch: verified already, not yet used by the provider. @default false */
  readonly next?: boolean;
}

/** A key document: the keys valid now, the provider's current key first. */
export interface KeyDocument {
  readonly keys: readonly KeyEntry[];
}

/** What a rotation changes: the document to write, and the key the provider switches to (if it switches now). */
export interface RotationPlan {
  readonly document: KeyDocument;
  /** The key the provider must sign with from now on; `undefined` when this rotation only stages a key. */
  readonly switchTo?: KeyEntry;
  /** The key staged for the next rotation. */
  readonly staged?: KeyEntry;
  /** With nothing to switch to yet: seconds until the staged key has been accepted for a whole cache period. */
  readonly waitSeconds?: number;
}

/** A fresh key id: `k-` and 8 hex digits, unrelated to the key's value. */
export const newKeyId = (): string => `k-${randomBytes(4).toString('hex')}`;

/**
 * A fresh key in the format the scheme expects: Standard Webhooks `whsec_` +
 * base64, Stripe `whsec_` + hex, anything else 48 hex digits (24 bytes).
 */
export const generateKey = (schemeName: string): string => {
  const bytes = randomBytes(24);
  if (schemeName === 'standard-webhooks') return `whsec_${bytes.toString('base64')}`;
  if (schemeName === 'stripe') return `whsec_${bytes.toString('hex')}`;
  return bytes.toString('hex');
};

/** The parsed Secrets Manager document as a key document (the generated top-level `secret` becomes a key without expiry). */
export const toKeyDocument = (parsed: SecretDocument): KeyDocument => ({ keys: parsed.keys as readonly KeyEntry[] });

/** Whether the key still verifies at `nowSeconds`. */
export const isValid = (key: KeyEntry, nowSeconds: number): boolean => key.notAfter === undefined || key.notAfter > nowSeconds;

/**
 * The key the provider signs with: the first valid key that is not staged.
 * A `shared` sender reads the document and signs with this one.
 */
export const signingKey = (document: KeyDocument, nowSeconds: number): KeyEntry | undefined =>
  document.keys.find((key) => !key.next && isValid(key, nowSeconds));

/** The staged key, if any. */
export const stagedKey = (document: KeyDocument, nowSeconds: number): KeyEntry | undefined =>
  document.keys.find((key) => key.next && isValid(key, nowSeconds));

/** Options of {@link planRotation}. */
export interface PlanOptions {
  readonly nowSeconds: number;
  /** The functions' key cache period: a staged key is switched to only once it has been in the document this long. */
  readonly cacheSeconds: number;
  /** How long the previous key keeps verifying after the switch. */
  readonly overlapSeconds: number;
  /** Makes the key staged for the next rotation. */
  readonly generate: () => string;
  /**
   * When the current document became current (epoch seconds): its promotion,
   * which a late finishing rotation puts hours after the staged key's
   * `createdAt`. A function may hold the previous document for a cache period
   * after that, so the staged key counts as accepted from the later of the two.
   * Pass the latest time the promotion may have happened: a later one only delays a switch.
   * @default - `createdAt` alone (a store that records promotion times should always pass it)
   */
  readonly currentSinceSeconds?: number;
}

/**
 * A margin on top of the cache period before a staged key is used: clocks
 * differ, and a function may have read the document just before it changed.
 * One cache period more, at most a minute.
 */
export const stageMarginSeconds = (cacheSeconds: number): number => Math.min(60, cacheSeconds);

/**
 * When the provider may switch to `staged` (epoch seconds): once every function has accepted it for a whole cache
 * period plus {@link stageMarginSeconds}, counted from the later of its `createdAt` and when the document holding it
 * became current (`currentSinceSeconds`).
 */
export const stagedKeyReadyAt = (staged: KeyEntry, currentSinceSeconds: number | undefined, cacheSeconds: number): number =>
  Math.max(staged.createdAt ?? 0, currentSinceSeconds ?? 0) + cacheSeconds + stageMarginSeconds(cacheSeconds);

/**
 * Plans a `github` or `shared` rotation so that no delivery is refused: the
 * provider switches only to the staged key, and only once every function has
 * accepted it for a whole cache period (plus {@link stageMarginSeconds}),
 * counted from the later of its `createdAt` and `currentSinceSeconds`;
 * the previous key keeps verifying until the overlap ends; a new key is staged
 * for the next rotation. With no staged key old enough, the plan only stages.
 * Expired keys are dropped.
 */
export const planRotation = (current: KeyDocument, options: PlanOptions): RotationPlan => {
  const { nowSeconds } = options;
  const valid = current.keys.filter((key) => isValid(key, nowSeconds));
  const staged = stagedKey(current, nowSeconds);
  const fresh = (): KeyEntry => ({ id: newKeyId(), secret: options.generate(), createdAt: nowSeconds, next: true });
  if (!staged) {
    const next = fresh();
    return {
      document: { keys: [...valid, next] },
      staged: next,
      waitSeconds: options.cacheSeconds + stageMarginSeconds(options.cacheSeconds),
    };
  }
  // Accepted since it was in a current document: not before it entered it (createdAt), nor before that document became current.
  const ready = stagedKeyReadyAt(staged, options.currentSinceSeconds, options.cacheSeconds);
  if (ready > nowSeconds) return { document: { keys: valid }, staged, waitSeconds: ready - nowSeconds };
  const until = nowSeconds + options.overlapSeconds;
  const { next: _staged, ...promoted } = staged;
  const next = fresh();
  // The provider's current key and any older ones verify until the overlap ends (never longer than they already would).
  const retiring = valid.filter((key) => key !== staged).map((key) => ({ ...key, notAfter: Math.min(key.notAfter ?? until, until) }));
  return { document: { keys: [promoted, next, ...retiring] }, switchTo: promoted, staged: next };
};

/**
 * A `manual` rotation: the provider's new key (already issued in its
 * dashboard) first, every other valid key kept until the overlap ends.
 */
export const planManualRotation = (current: KeyDocument, secret: string, nowSeconds: number, overlapSeconds: number): RotationPlan => {
  const until = nowSeconds + overlapSeconds;
  const fresh: KeyEntry = { id: newKeyId(), secret, createdAt: nowSeconds };
  const kept = current.keys
    .filter((key) => isValid(key, nowSeconds) && key.secret !== secret)
    .map(({ next: _next, ...key }) => ({ ...key, notAfter: Math.min(key.notAfter ?? until, until) }));
  return { document: { keys: [fresh, ...kept] }, switchTo: fresh };
};

/**
 * What a rotation's pending document records of its plan (`"plan"` beside `"keys"`; the functions and senders read
 * `keys` only): the current document it was planned from, and when. setSecret and finishSecret check it, so that a
 * late or repeated step never makes current a document planned from one that has changed since.
 */
export interface PlanRecord {
  /** {@link documentFingerprint} of the current document the plan was made from. */
  readonly basis: string;
  /** When the plan was made, epoch seconds. */
  readonly at: number;
}

/** The document as stored: JSON, keys in order (and a rotation's {@link PlanRecord}). */
export const serializeKeyDocument = (document: KeyDocument, plan?: PlanRecord): string =>
  JSON.stringify({ keys: document.keys, ...(plan ? { plan } : {}) });

/** Names a stored document by its content, never revealing it: `sha256:` and the first 16 hex digits of its hash. */
export const documentFingerprint = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;

/** The {@link PlanRecord} of a stored document, if it has a well-formed one. */
export const planRecordOf = (text: string | undefined): PlanRecord | undefined => {
  try {
    const plan = (JSON.parse(text ?? '') as { plan?: { basis?: unknown; at?: unknown } } | null)?.plan;
    return typeof plan?.basis === 'string' && typeof plan.at === 'number' && Number.isFinite(plan.at)
      ? { basis: plan.basis, at: plan.at }
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Whether two stored documents list the same keys, whatever else they hold (a rotation's plan record): a rotation that
 * only stages leaves the keys as they were, and must leave the document's time as it was too.
 */
export const sameKeys = (a: string | undefined, b: string | undefined): boolean => {
  const keysOf = (text: string | undefined): string | undefined => {
    try {
      const parsed = JSON.parse(text ?? '') as { keys?: unknown; secret?: unknown } | null;
      // The generated top-level "secret" is a key too.
      return JSON.stringify([parsed?.keys ?? null, parsed?.secret ?? null]);
    } catch {
      return undefined;
    }
  };
  const [left, right] = [keysOf(a), keysOf(b)];
  return left === undefined || right === undefined ? a === b : left === right;
};

/** A key as `hookwarden keys` shows it: id, role, age, expiry; never the value. */
export interface KeySummary {
  readonly id: string;
  readonly role: 'current' | 'next' | 'previous' | 'expired';
  readonly createdAt?: number;
  readonly ageSeconds?: number;
  readonly notAfter?: number;
}

/** Summaries of every key of the document, in order. */
export const summarizeKeys = (document: KeyDocument, nowSeconds: number): KeySummary[] => {
  const signing = signingKey(document, nowSeconds);
  return document.keys.map((key, index) => ({
    id: key.id ?? `keys[${index}]`,
    role: !isValid(key, nowSeconds) ? 'expired' : key.next ? 'next' : key === signing ? 'current' : 'previous',
    ...(key.createdAt !== undefined ? { createdAt: key.createdAt, ageSeconds: Math.max(0, nowSeconds - key.createdAt) } : {}),
    ...(key.notAfter !== undefined ? { notAfter: key.notAfter } : {}),
  }));
};
