import type { SourceConfig } from '../../config/index.js';
import { kindOf } from '../../config/rules.js';
import { HttpError, type AuthenticationFailureCode } from '../../errors.js';
import { secretsUnavailable, type SecretProvider, type SecretProviderFactory } from '../../secrets/index.js';
import { refusalReason } from '../../schemes/index.js';
import { decodeKey } from '../../secrets/keys.js';
import { keyForms, rememberKeys } from '../../redaction.js';
import { countMetric, METRIC, type Telemetry } from '../../telemetry.js';
import { tooLarge } from '../raw-body/index.js';
import { stateOf, withDefaults, type HttpMiddleware, type HttpRequest } from '../types.js';

/** Options of {@link signatureVerifier}. */
export interface SignatureVerifierOptions {
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Builds each source's secret provider (environment locally, Secrets Manager in AWS). */
  readonly secretProviders: SecretProviderFactory;
  /** Clock, epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Where an unusable key is reported (security event and metric). @default none */
  readonly telemetry?: Telemetry;
}

const defaults: Required<Pick<SignatureVerifierOptions, 'now'>> = { now: Date.now };

interface SourceKeys {
  readonly provider: SecretProvider;
  secrets?: readonly string[];
  keys: readonly Buffer[];
  /** The secrets and keys in every form a log line must leave out (core/redaction.ts). */
  forms: readonly string[];
  /** The forms of the secrets the configuration itself holds (an environment variable's), known before any load. */
  readonly configured: readonly string[];
  /** Keys of the loaded set that cannot be used. */
  unusable: number;
}

const MESSAGES: Readonly<Record<AuthenticationFailureCode, string>> = {
  signature_invalid: 'The webhook signature is missing or invalid.',
  timestamp_invalid: 'The webhook timestamp is malformed.',
  timestamp_out_of_range: 'The webhook timestamp is outside the accepted window.',
};

/** The forms of secrets the configuration holds, each decoded as the scheme would where it can be. */
const configuredForms = (source: SourceConfig, secrets: readonly string[]): readonly string[] =>
  keyForms(
    secrets,
    secrets.flatMap((secret) => {
      try {
        return [decodeKey(source.scheme, secret)];
      } catch {
        return [];
      }
    }),
  );

/**
 * Proves the delivery authentic and fresh with the source's scheme, against
 * every valid secret: 401 `signature_invalid`, `timestamp_invalid` or
 * `timestamp_out_of_range`. Keys are decoded once per secret set, not per request.
 * A signature that matches no key while the source's keys are stale (their
 * refresh failed) is a 503 with `Retry-After`: a newer key may accept it.
 * No store is touched before this passes. A body over the source's `maxBodyBytes` is 413 here too: `rawBody`
 * composed before `webhookRoute` held it to its own default limit.
 */
export const signatureVerifier = (opts: SignatureVerifierOptions): HttpMiddleware => {
  const options = withDefaults(defaults, opts);
  const { now } = options;
  const perSource = new Map<string, SourceKeys>();
  for (const [name, source] of options.sources) {
    if (!source.secret) throw new Error(`source "${name}" has no secret configured`);
    const forms = source.secret.kind === 'env' ? configuredForms(source, source.secret.values) : [];
    perSource.set(name, { provider: options.secretProviders(source.secret), keys: [], forms, configured: forms, unusable: 0 });
  }

  /** One unusable key: a security event naming its position (never its value), once per key set. */
  const reportUnusable = (source: SourceConfig, key: string, problem: string): void => {
    options.telemetry?.logger.error('secret key unusable', {
      securityEvent: { code: 'secret_key_unusable', source: source.name, key, problem },
    });
  };

  /**
   * The number of unusable keys over every source this function has loaded,
   * published on each load, 0 included: the alarm (which keeps its state while
   * no datapoint comes) goes off with a broken key and back to OK only once a
   * function has loaded key sets with none.
   */
  const publishUnusable = (): void => {
    if (!options.telemetry) return;
    let total = 0;
    for (const entry of perSource.values()) total += entry.unusable;
    countMetric(options.telemetry.metrics, METRIC.secretKeyUnusable, {}, total);
  };

  const keysFor = async (source: SourceConfig): Promise<SourceKeys> => {
    const entry = perSource.get(source.name) as SourceKeys;
    const secrets: unknown = await entry.provider.current();
    // A provider of the team's own answering something else (the secret itself, a document, nothing) was a TypeError
    // from deep in here, or (nothing) a 503 blaming the keys: say what the provider did, never what it answered.
    if (!Array.isArray(secrets))
      throw new Error(
        `the secret provider of source "${source.name}" answered ${kindOf(secrets)}, not an array of secrets (SecretProvider.current)`,
      );
    if (secrets !== entry.secrets) {
      // A key a rotation got wrong is skipped, not fatal: the others keep the source working.
      let unusable = 0;
      for (const { label, problem } of entry.provider.unusable?.() ?? []) {
        reportUnusable(source, label, problem);
        unusable += 1;
      }
      entry.keys = secrets.flatMap((secret, index) => {
        try {
          return [decodeKey(source.scheme, secret)];
        } catch (error) {
          reportUnusable(source, entry.provider.keyLabel(index), (error as Error).message);
          unusable += 1;
          return [];
        }
      });
      entry.forms = [...new Set([...keyForms(secrets, entry.keys), ...entry.configured])];
      entry.secrets = secrets;
      entry.unusable = unusable;
      publishUnusable();
    }
    if (entry.keys.length === 0) {
      throw secretsUnavailable({ problem: "no usable key in the source's secrets" });
    }
    return entry;
  };

  const signatureVerifierBefore = async (request: HttpRequest): Promise<void> => {
    const state = stateOf(request);
    const source = state.source;
    if (!source) throw new Error('signatureVerifier needs webhookRoute before it');
    // Without the bytes sent, the check would run over an empty body: every delivery refused, for the wrong reason,
    // and a MAC over an empty body taken for one over whatever the event carries.
    const body = state.body;
    if (!body) throw new Error('signatureVerifier needs rawBody before it');
    // Read before the source was known (rawBody composed before webhookRoute), the body was held to rawBody's default
    // limit (1 MiB), not the source's: the source's applies here, before any key is loaded or the store touched.
    if (body.length > source.maxBodyBytes) throw tooLarge(source.maxBodyBytes);
    // What a provider that fails throws may quote a key: the configured ones, or those it gave before, are left out of
    // the log line (and a development answer) too, not only once the keys are loaded.
    rememberKeys(state, (perSource.get(source.name) as SourceKeys).forms);
    const { keys, forms } = await keysFor(source);
    // A log line about this request (what a wrapped handler throws, say) leaves these out.
    rememberKeys(state, forms);
    const headers = state.headers ?? new Map<string, string[]>();
    const result = source.scheme.verify({ headers, body }, keys, {
      nowSeconds: Math.floor(now() / 1000),
      maxAgeSeconds: source.maxAgeSeconds,
    });
    if (!result.ok) {
      // Keys that could not be refreshed may lack one staged since (a rotation): the sender is told to retry, not that it is wrong.
      if (result.noKeyMatched && (perSource.get(source.name) as SourceKeys).provider.stale?.()) {
        throw secretsUnavailable({
          problem: 'the signature matches no cached key, and the secret could not be read again to look for a newer one',
        });
      }
      throw new HttpError(401, result.code, MESSAGES[result.code], { details: { reason: refusalReason(result, headers, source.scheme) } });
    }
    state.delivery = result;
  };
  return { before: signatureVerifierBefore };
};
