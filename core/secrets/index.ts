import type { SecretSource } from '../config/index.js';
import { HttpError } from '../errors.js';

/**
 * The 503 of a source whose keys cannot be used now (unreadable, none valid,
 * or stale while a signature matches none of them): the sender retries after
 * `Retry-After`; `details` (never a key) go to the log only.
 */
export const secretsUnavailable = (details: Record<string, unknown>, cause?: unknown): HttpError =>
  new HttpError(503, 'unavailable', 'Webhook secrets are unavailable; retry later.', {
    cause,
    headers: { 'Retry-After': '5' },
    details,
  });

/**
 * Supplies the secrets of one source that are valid now (several during a
 * rotation overlap). Implementations cache: `current()` is called per request.
 */
export interface SecretProvider {
  /**
   * The valid secrets, as configured (not yet decoded by the scheme). Returns the
   * same array instance until the set changes (or the {@link unusable} entries do),
   * so callers may cache derived keys, and reports about the set, by identity.
   * @throws HttpError 503 `unavailable` when the secrets cannot be read and nothing is cached
   */
  current(): Promise<readonly string[]>;
  /**
   * Where the secret at `index` of the last `current()` answer sits in its
   * source (`WEBHOOK_SECRET #2`, `keys[1]`), for a log line that names a key without its value.
   */
  keyLabel(index: number): string;
  /**
   * Entries of the last document read that were left out as malformed (a key
   * document entry without a string secret, a bad `notAfter`), each by its
   * label and problem, never its value: reported like a key the scheme cannot decode.
   */
  unusable?(): ReadonlyArray<{ readonly label: string; readonly problem: string }>;
  /**
   * Whether the secrets of the last `current()` answer are past their cache
   * period because reading a newer set failed (Secrets Manager unreachable, a
   * malformed new version). A key staged since may be missing from them, so a
   * signature none of them matches is "retry later" (503), not invalid (401):
   * the operator sees an outage rather than forgeries, and a sender that
   * retries gets the delivery in once the secret is read again.
   */
  stale?(): boolean;
}

/** A provider over fixed values (environment variables, tests); `where` names them in labels. */
export const staticSecrets = (values: readonly string[], where = 'secret'): SecretProvider => {
  const frozen = Object.freeze([...values]);
  const resolved = Promise.resolve(frozen);
  return { current: () => resolved, keyLabel: (index) => `${where} #${index + 1}` };
};

/** Builds the provider for a source's {@link SecretSource}. */
export type SecretProviderFactory = (source: SecretSource) => SecretProvider;

/** The factory for local mode: environment values only; a Secrets Manager source is a configuration error here. */
export const environmentSecretProviders: SecretProviderFactory = (source) => {
  if (source.kind === 'env') return staticSecrets(source.values, source.variable);
  throw new Error(`secret ${source.secretId} lives in Secrets Manager; pass a Secrets Manager provider factory`);
};
