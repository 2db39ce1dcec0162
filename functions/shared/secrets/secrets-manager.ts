import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HttpError } from '../errors';
import { staticSecrets, type SecretProvider, type SecretProviderFactory } from './index';

/** Options of {@link secretsManagerProviders}. */
export interface SecretsManagerProviderOptions {
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Wait after a failed refresh before trying again while serving the last good value. @default 10000 */
  readonly retryAfterFailureMs?: number;
}

/** The document each secret version holds: every key valid now, each with an optional expiry. */
export interface SecretDocument {
  readonly keys: ReadonlyArray<{ readonly secret: string; readonly notAfter?: number }>;
}

/**
 * Parses `{"keys":[{"secret":"...","notAfter":<epoch seconds>}]}`. A top-level
 * `"secret"` (what the stack generates at creation: Secrets Manager can only
 * generate a top-level string) counts as one more key without expiry.
 * @throws Error naming what is wrong (never the secret)
 */
export const parseSecretDocument = (text: string | undefined): SecretDocument => {
  if (!text) throw new Error('secret has no SecretString');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('secret is not a JSON document {"keys":[...]}');
  }
  const generated = (value as { secret?: unknown }).secret;
  const listed = (value as { keys?: unknown }).keys ?? [];
  if (!Array.isArray(listed)) throw new Error('secret document "keys" must be an array');
  const keys: unknown[] = typeof generated === 'string' && generated.length > 0 ? [...listed, { secret: generated }] : listed;
  if (keys.length === 0) throw new Error('secret document has no "keys"');
  (keys as Array<{ secret?: unknown; notAfter?: unknown }>).forEach((key, index) => {
    if (typeof key?.secret !== 'string' || key.secret.length === 0) throw new Error(`keys[${index}].secret must be a non-empty string`);
    if (key.notAfter !== undefined && typeof key.notAfter !== 'number') throw new Error(`keys[${index}].notAfter must be epoch seconds`);
  });
  return { keys: keys as SecretDocument['keys'] };
};

const unavailable = (cause: unknown): HttpError =>
  new HttpError(503, 'unavailable', 'Webhook secrets are unavailable; retry later.', { cause, headers: { 'Retry-After': '5' } });

/**
 * Providers for Secrets Manager sources: one GetSecretValue per `cacheSeconds`
 * per container (concurrent callers share the request), keys past `notAfter`
 * dropped, the same array returned until the set changes; a failed refresh keeps
 * serving the last good value; with nothing cached, a 503.
 */
export const secretsManagerProviders = (
  client: SecretsManagerClient,
  options: SecretsManagerProviderOptions = {},
): SecretProviderFactory => {
  const now = options.now ?? Date.now;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 10_000;
  return (source) => {
    if (source.kind === 'env') return staticSecrets(source.values);
    let document: SecretDocument | undefined;
    let current: readonly string[] = [];
    let currentKey = '';
    let refreshAt = 0;
    let inFlight: Promise<void> | undefined;

    const select = (): readonly string[] => {
      const nowSeconds = now() / 1000;
      const valid = (document?.keys ?? []).filter((key) => key.notAfter === undefined || key.notAfter > nowSeconds).map((key) => key.secret);
      const key = valid.join('\u0000');
      if (key !== currentKey) {
        current = Object.freeze(valid);
        currentKey = key;
      }
      return current;
    };

    const refresh = (): Promise<void> =>
      (inFlight ??= client
        .send(new GetSecretValueCommand({ SecretId: source.secretId }))
        .then((result) => {
          document = parseSecretDocument(result.SecretString);
          refreshAt = now() + source.cacheSeconds * 1000;
        })
        .catch((error: unknown) => {
          refreshAt = now() + retryAfterFailureMs;
          if (!document) throw unavailable(error);
        })
        .finally(() => {
          inFlight = undefined;
        }));

    const provider: SecretProvider = {
      current: async () => {
        if (now() >= refreshAt) await refresh();
        const valid = select();
        if (valid.length === 0) throw unavailable(new Error(`every key of ${source.secretId} has expired`));
        return valid;
      },
    };
    return provider;
  };
};
