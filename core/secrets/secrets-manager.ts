import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { outsideDeadline, untilDeadline } from '../deadline.js';
import type { HttpError } from '../errors.js';
import { secretsUnavailable, staticSecrets, type SecretProvider, type SecretProviderFactory } from './index.js';

/** Options of {@link secretsManagerProviders}. */
export interface SecretsManagerProviderOptions {
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /**
   * Wait after a failed read before trying again. Meanwhile the last good keys
   * are served, or (with none) callers get a 503 at once instead of each
   * waiting on Secrets Manager.
   * @default 5000
   */
  readonly retryAfterFailureMs?: number;
}

/** The document each secret version holds: every key valid now, each with an optional expiry. */
export interface SecretDocument {
  readonly keys: ReadonlyArray<{ readonly secret: string; readonly notAfter?: number }>;
  /** The document's top-level `"secret"` is the last of `keys`. */
  readonly generatedLast?: boolean;
  /**
   * With `skipMalformed`: the entries left out of `keys`, by their position in the
   * document, and why (never the value). `keys` then keeps only the others, and
   * `positions` gives each kept key's position.
   */
  readonly malformed?: ReadonlyArray<{ readonly position: number; readonly problem: string }>;
  readonly positions?: readonly number[];
}

/** Options of {@link parseSecretDocument}. */
export interface ParseSecretDocumentOptions {
  /**
   * Leave a malformed entry out (listed in `malformed`) instead of refusing the
   * whole document: the serving path, where one bad entry must not take the
   * source down. Rotation reads strictly (the default), so it never plans from a wrong reading.
   * @default false
   */
  readonly skipMalformed?: boolean;
  /**
   * Take `{"keys":[]}` (an explicit empty list, no top-level `"secret"`) as a document that accepts no key: an
   * operator removed every key to stop a source at once. The serving path, which must apply that revocation rather
   * than keep serving its last good document. Rotation and the command line refuse it (the default): a rotation
   * planned from it would stage a key and switch the sender to it, undoing the stop.
   * @default false
   */
  readonly allowEmpty?: boolean;
}

/** Why a secret document was refused; names the problem, never the value. */
export class MalformedSecretError extends Error {
  override readonly name = 'MalformedSecretError';
}

/**
 * Parses `{"keys":[{"secret":"...","notAfter":<epoch seconds>}]}`. A top-level
 * `"secret"` (what the stack generates at creation: CloudFormation can only
 * generate a top-level member) counts as one more key without expiry.
 * @throws MalformedSecretError naming what is wrong (never the secret)
 */
export const parseSecretDocument = (text: string | undefined, options: ParseSecretDocumentOptions = {}): SecretDocument => {
  if (!text) throw new MalformedSecretError('secret has no SecretString');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the text: it is not kept.
    throw new MalformedSecretError('secret is not a JSON document {"keys":[...]}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedSecretError('secret is not a JSON object {"keys":[...]}');
  const generated = (value as { secret?: unknown }).secret;
  const listed = (value as { keys?: unknown }).keys ?? [];
  if (!Array.isArray(listed)) throw new MalformedSecretError('secret document "keys" must be an array');
  if (generated !== undefined && (typeof generated !== 'string' || generated.length === 0))
    throw new MalformedSecretError('secret document "secret" must be a non-empty string');
  const keys: unknown[] = typeof generated === 'string' ? [...listed, { secret: generated }] : listed;
  if (keys.length === 0) {
    // Only an explicit empty list says "no key": `{}` (or a document that lost its "keys") stays malformed.
    if (Array.isArray((value as { keys?: unknown }).keys)) {
      if (options.allowEmpty) return { keys: [] };
      throw new MalformedSecretError('secret document lists no key ({"keys":[]}: every key was removed, the source accepts no delivery)');
    }
    throw new MalformedSecretError('secret document has no "keys"');
  }
  const problemOf = (key: unknown, index: number): string | undefined => {
    const { secret, notAfter, id, createdAt, next } = (key ?? {}) as {
      secret?: unknown;
      notAfter?: unknown;
      id?: unknown;
      createdAt?: unknown;
      next?: unknown;
    };
    if (typeof secret !== 'string' || secret.length === 0) return `keys[${index}].secret must be a non-empty string`;
    if (notAfter !== undefined && (typeof notAfter !== 'number' || !Number.isFinite(notAfter)))
      return `keys[${index}].notAfter must be epoch seconds`;
    // Rotation's bookkeeping (core/secrets/key-document.ts): checked so that a rotation never plans from a wrong reading.
    if (createdAt !== undefined && (typeof createdAt !== 'number' || !Number.isFinite(createdAt)))
      return `keys[${index}].createdAt must be epoch seconds`;
    if (id !== undefined && typeof id !== 'string') return `keys[${index}].id must be a string`;
    if (next !== undefined && typeof next !== 'boolean') return `keys[${index}].next must be true or false`;
    return undefined;
  };
  const malformed: Array<{ position: number; problem: string }> = [];
  const positions: number[] = [];
  keys.forEach((key, index) => {
    const problem = problemOf(key, index);
    if (problem === undefined) positions.push(index);
    else if (options.skipMalformed) malformed.push({ position: index, problem });
    else throw new MalformedSecretError(problem);
  });
  if (positions.length === 0) throw new MalformedSecretError(`secret document has no well-formed key (${malformed[0]?.problem})`);
  const generatedLast = typeof generated === 'string' ? { generatedLast: true } : {};
  if (malformed.length === 0) return { keys: keys as SecretDocument['keys'], ...generatedLast };
  return { keys: positions.map((index) => keys[index]) as SecretDocument['keys'], ...generatedLast, malformed, positions };
};

const unavailable = (secretId: string, cause: unknown, problem: string): HttpError => secretsUnavailable({ secretId, problem }, cause);

/** Why a read failed, for the log: the SDK error's name, or the document problem. */
const problemOf = (error: unknown): string => {
  if (error instanceof MalformedSecretError) return error.message;
  const code = (error as NodeJS.ErrnoException)?.code;
  // A local key file's system error (ENOENT, EACCES), else the SDK error's name.
  return code ? `cannot read the key file (${code})` : `GetSecretValue failed (${(error as { name?: string })?.name ?? 'error'})`;
};

/**
 * Providers for Secrets Manager sources (`staticSecrets` for `env` ones). Each
 * reads its secret once per `cacheSeconds` per container, concurrent callers
 * sharing the request (which no caller's deadline aborts: each caller stops
 * waiting at its own, see untilDeadline in core/deadline.ts); drops keys past `notAfter`; returns the same array until
 * the set of valid keys or of malformed entries changes. A failed or malformed refresh keeps serving
 * the last good document, marked `stale` until a read succeeds, and is retried
 * after a short backoff; with nothing good cached, callers get a 503 with `Retry-After`. A refresh that reads
 * `{"keys":[]}` (every key removed in an emergency) replaces the cached keys with none: callers get that 503 at
 * once, as for a source whose every key expired, and the document is read again every backoff until a key is back.
 *
 * `client` may be a function that makes the client on the first read: the
 * webhook function passes one, so a container whose sources all take their
 * secret from the environment never loads the Secrets Manager client (its
 * module and its construction were a tenth of the function's cold start).
 * The SDK module itself is imported on the first read, for the same reason.
 */
export const secretsManagerProviders = (
  client: SecretsManagerClient | (() => SecretsManagerClient | Promise<SecretsManagerClient>),
  options: SecretsManagerProviderOptions = {},
): SecretProviderFactory => {
  let made: Promise<SecretsManagerClient> | undefined;
  // A client that could not be made is tried again on the next read (after the providers' backoff), not cached as a failure.
  const clientOf = (): Promise<SecretsManagerClient> =>
    (made ??= Promise.resolve()
      .then(() => (typeof client === 'function' ? client() : client))
      .catch((error: unknown) => {
        made = undefined;
        throw error;
      }));
  return cachedKeyDocumentProviders(async (secretId) => {
    const [{ GetSecretValueCommand }, sm] = await Promise.all([import('./secrets-manager-client.js'), clientOf()]);
    return (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  }, options);
};

/**
 * The caching provider of {@link secretsManagerProviders} over any reader of
 * key documents by id: Secrets Manager on AWS, the data directory's key files
 * locally (one code path). `env` sources get `staticSecrets`.
 */
export const cachedKeyDocumentProviders = (
  readDocument: (secretId: string) => Promise<string | undefined>,
  options: SecretsManagerProviderOptions = {},
): SecretProviderFactory => {
  const now = options.now ?? Date.now;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 5_000;
  return (source) => {
    if (source.kind === 'env') return staticSecrets(source.values, source.variable);
    const { secretId, cacheSeconds } = source;
    let document: SecretDocument | undefined;
    let failure: { cause: unknown; problem: string } | undefined;
    let current: readonly string[] = Object.freeze([]);
    let labels: readonly string[] = [];
    let currentKey = '';
    let refreshAt = 0;
    let lastReadAt = Number.NEGATIVE_INFINITY;
    let inFlight: Promise<void> | undefined;

    const select = (): readonly string[] => {
      const nowSeconds = now() / 1000;
      const keys = document?.keys ?? [];
      const positions = keys.flatMap((key, index) => (key.notAfter === undefined || key.notAfter > nowSeconds ? [index] : []));
      const valid = positions.map((index) => (keys[index] as SecretDocument['keys'][number]).secret);
      // The malformed entries count too: removing one must reach the caller (as a new array) so its report can clear.
      const malformed = (document?.malformed ?? []).map(({ position, problem }) => `${position}:${problem}`);
      const key = `${valid.join('\u0000')}\u0001${malformed.join('\u0000')}`;
      if (key !== currentKey) {
        current = Object.freeze(valid);
        // The position in the document an operator edits (the generated top-level "secret" is parsed last).
        labels = positions.map((index) =>
          document?.generatedLast && index === keys.length - 1
            ? `${secretId} "secret"`
            : `${secretId} keys[${document?.positions?.[index] ?? index}]`,
        );
        currentKey = key;
      }
      return current;
    };

    const read = async (): Promise<void> => {
      lastReadAt = now();
      try {
        document = parseSecretDocument(await readDocument(secretId), { skipMalformed: true, allowEmpty: true });
        failure = undefined;
        refreshAt = now() + cacheSeconds * 1000;
      } catch (error) {
        // Stale-on-error: the last good document stays; the next try is after a backoff, not per request.
        failure = { cause: error, problem: problemOf(error) };
        refreshAt = now() + retryAfterFailureMs;
      }
    };

    // Shared by every caller meanwhile: not aborted at the deadline of the request that started it (every other
    // waiter would fail with it, and the failure would be kept for the backoff), only by the client's own attempts.
    const refresh = (): Promise<void> =>
      (inFlight ??= outsideDeadline(read).finally(() => {
        inFlight = undefined;
      }));

    /**
     * Waits for the shared read until the caller's own deadline (`read` itself never fails). Past it the request
     * is answered 503 whatever is cached: its store calls would be aborted at once, and keys that may lack one staged
     * since must not refuse its signature.
     */
    const awaitRead = (): Promise<void> =>
      untilDeadline(refresh(), (reason) => unavailable(secretId, reason, "the request's deadline passed before the secret was read"));

    return {
      current: async () => {
        // A clock behind the last read stepped back: the cache period, a time on that clock, would last the step longer.
        const at = now();
        if (at >= refreshAt || at < lastReadAt) await awaitRead();
        let valid = select();
        if (valid.length === 0 && document && now() - lastReadAt >= retryAfterFailureMs) {
          // Every cached key has expired (a rotation overlap ended): read the new document now, not at the end of the cache period.
          await awaitRead();
          valid = select();
        }
        if (valid.length > 0) return valid;
        if (failure) throw unavailable(secretId, failure.cause, failure.problem);
        // An emptied document is a revocation (fail closed), not a failed read: nothing of the last good one is served.
        throw unavailable(
          secretId,
          undefined,
          document?.keys.length === 0
            ? 'the secret document lists no key ({"keys":[]}): every delivery is refused until a key is put back'
            : 'every key in the secret document has expired',
        );
      },
      keyLabel: (index) => labels[index] ?? `${secretId} key #${index + 1}`,
      unusable: () => (document?.malformed ?? []).map(({ position, problem }) => ({ label: `${secretId} keys[${position}]`, problem })),
      // A refresh runs only once the cache period is over (or every key expired): a failed one leaves keys older than that.
      stale: () => failure !== undefined && document !== undefined,
    } satisfies SecretProvider;
  };
};
