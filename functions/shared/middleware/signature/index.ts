import type { SourceConfig } from '../../config';
import { HttpError } from '../../errors';
import type { SecretProvider, SecretProviderFactory } from '../../secrets';
import { stateOf, type HttpMiddleware, type HttpRequest } from '../types';

/** Options of {@link signatureVerifier}. */
export interface SignatureVerifierOptions {
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Builds each source's secret provider (environment locally, Secrets Manager in AWS). */
  readonly secretProviders: SecretProviderFactory;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

interface SourceKeys {
  readonly provider: SecretProvider;
  secrets?: readonly string[];
  keys: readonly Buffer[];
}

const MESSAGES: Record<string, string> = {
  signature_invalid: 'The webhook signature is missing or invalid.',
  timestamp_invalid: 'The webhook timestamp is malformed.',
  timestamp_out_of_range: 'The webhook timestamp is outside the accepted window.',
};

/**
 * Proves the delivery authentic and fresh with the source's scheme, against
 * every valid secret: 401 `signature_invalid`, `timestamp_invalid` or
 * `timestamp_out_of_range`. Keys are decoded once per secret set, not per request.
 * No store is touched before this passes.
 */
export const signatureVerifier = (options: SignatureVerifierOptions): HttpMiddleware => {
  const now = options.now ?? Date.now;
  const perSource = new Map<string, SourceKeys>();
  for (const [name, source] of options.sources) {
    if (!source.secret) throw new Error(`source "${name}" has no secret configured`);
    perSource.set(name, { provider: options.secretProviders(source.secret), keys: [] });
  }

  const keysFor = async (source: SourceConfig): Promise<readonly Buffer[]> => {
    const entry = perSource.get(source.name) as SourceKeys;
    const secrets = await entry.provider.current();
    if (secrets !== entry.secrets) {
      entry.keys = secrets.map((secret) => source.scheme.decodeSecret(secret));
      entry.secrets = secrets;
    }
    return entry.keys;
  };

  const signatureVerifierBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    const source = state.source as SourceConfig;
    const keys = await keysFor(source);
    const result = source.scheme.verify(
      { headers: state.headers ?? new Map(), body: state.body ?? Buffer.alloc(0) },
      keys,
      { nowSeconds: Math.floor(now() / 1000), maxAgeSeconds: source.maxAgeSeconds },
    );
    if (!result.ok) {
      throw new HttpError(401, result.code, MESSAGES[result.code] ?? 'Unauthorized.', { details: { reason: result.reason } });
    }
    state.delivery = result;
  };
  return { before: signatureVerifierBefore };
};
