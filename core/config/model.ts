import type { RateLimit } from '../rate-limit/sliding-window.js';
import type { HmacSchemeOptions, SignatureScheme } from '../schemes/types.js';
import type { RotationConfig, RotationDescription } from './rotation.js';

/** Where a source's secrets come from. */
export type SecretSource =
  /** Locally (and in tests): comma-separated values of an environment variable, all valid at once. */
  | { readonly kind: 'env'; readonly variable: string; readonly values: readonly string[] }
  /** In AWS: a Secrets Manager secret holding `{"keys":[{"secret":"...","notAfter":...}]}`, read through a cache. */
  | { readonly kind: 'secretsManager'; readonly secretId: string; readonly cacheSeconds: number }
  /** Locally, for a source without a secret variable: the same key document in a file of the data directory (`secretId` is its path). */
  | { readonly kind: 'keyFile'; readonly secretId: string; readonly cacheSeconds: number };

/** One webhook sender, served at `/webhooks/{name}`. */
export interface SourceConfig {
  readonly name: string;
  readonly schemeName: string;
  readonly scheme: SignatureScheme;
  /** `undefined` when nothing is configured: the local server generates a development secret; Lambda refuses to start. */
  readonly secret: SecretSource | undefined;
  /** IPs and CIDRs allowed to deliver; empty allows any address. */
  readonly allowedIps: readonly string[];
  /** @default 300 */
  readonly maxAgeSeconds: number;
  /** @default 1048576 (1 MiB) */
  readonly maxBodyBytes: number;
  /** How long a stored delivery (and so its replay guard) is kept. @default 604800 (7 days) */
  readonly retentionSeconds: number;
  /** Authenticated deliveries admitted per window for the whole source. @default none (no app-level limit) */
  readonly rateLimit?: RateLimit;
  /** Authenticated deliveries admitted per window per client (IPv4 address or IPv6 /64). @default none */
  readonly clientRateLimit?: RateLimit;
  /** When and how the key changes (config/rotation.ts). @default {"mode":"manual","every":"90d"} */
  readonly rotation: RotationConfig;
}

/**
 * One source as the one parser ({@link describeConfig}) describes it: plain
 * JSON in the config file's own keys, every default filled in, secrets named
 * (never their values). Fed back to the parser it comes out unchanged, so the
 * CDK app ships it in each bundle and the functions read it with the same rules.
 */
export interface SourceDescription {
  /** Served at `/webhooks/{name}`. */
  readonly name: string;
  /** Signature scheme preset name. @default 'standard-webhooks' */
  readonly scheme: string;
  /** Options of the generic `hmac` scheme. @default - none (other schemes) */
  readonly hmac?: HmacSchemeOptions;
  /** The variable holding the source's secrets (comma-separated). @default - none; `WEBHOOK_SECRET` for the `default` source */
  readonly secretEnv?: string;
  /** A Secrets Manager secret (name or ARN) holding the key document; wins over `secretEnv`. @default - none */
  readonly secretArn?: string;
  /**
   * The ARN of the customer-managed KMS key that encrypts the `secretArn` secret: the CDK app grants `kms:Decrypt` on it
   * (through Secrets Manager only) to the functions that read the secret, and encrypting to the rotation function
   * (the functions ignore it). @default - none: the secret uses the `aws/secretsmanager` key
   */
  readonly secretKmsKeyArn?: string;
  /** Whether the CDK app generates a secret for a source without `secretArn` (the functions ignore it). @default true */
  readonly generateSecret: boolean;
  /** IPs and CIDRs allowed to deliver; empty allows any. @default [] */
  readonly allowedIps: readonly string[];
  /** Timestamp tolerance, past and future. @default 300 */
  readonly maxAgeSeconds: number;
  /** Largest accepted body. @default 1048576 (1 MiB) */
  readonly maxBodyBytes: number;
  /** How long a stored delivery (and its replay guard) is kept. @default 604800 (7 days) */
  readonly retentionSeconds: number;
  /** As written, e.g. `600/60s`. @default - no source-wide limit */
  readonly rateLimit?: string;
  /** As written. @default - no per-client limit */
  readonly clientRateLimit?: string;
  /** When and how the key changes, as written with its defaults filled in; absent when the source has no block. @default - {"mode":"manual","every":"90d","overlap":"24h"} */
  readonly rotation?: RotationDescription;
}

/** The sources and the settings around them, as the one parser describes them: a valid config document. */
export interface ConfigDescription {
  readonly sources: readonly SourceDescription[];
  /** Exact origins allowed by CORS; empty allows none. */
  readonly corsOrigins: readonly string[];
  /** Peers whose `X-Forwarded-For` is believed; empty trusts none. */
  readonly trustedProxies: readonly string[];
  /** Dangerous values acknowledged (`acceptRisks`, `HOOKWARDEN_ACCEPT_RISKS`). */
  readonly acceptRisks: readonly string[];
}

/** Everything Hookwarden reads from its environment and config file, validated. */
export interface HookwardenConfig {
  /** What the sources were built from (the parser's output, plain JSON). */
  readonly description: ConfigDescription;
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Exact origins allowed by CORS; empty allows none. */
  readonly corsOrigins: readonly string[];
  /** Peers whose `X-Forwarded-For` is believed; empty trusts none. */
  readonly trustedProxies: readonly string[];
  /** `NODE_ENV=production` (or any value but `development`/`test`), `DEBUG=false`, or no `NODE_ENV` in Lambda without `DEBUG=true`: 5xx messages are generic, 401s carry no reason. */
  readonly production: boolean;
  readonly tables: { readonly deliveries: string; readonly rateLimits: string };
  /** Where the sources came from, for the banner and errors. */
  readonly origin: 'environment' | string;
  /** Dangerous values acknowledged (`acceptRisks`, `HOOKWARDEN_ACCEPT_RISKS`), for the banner. */
  readonly acceptedRisks: readonly string[];
}

/** The source the `WEBHOOK_*` variables describe. */
export const DEFAULT_SOURCE = 'default';
/** Every default in one place. */
export const DEFAULTS = {
  scheme: 'standard-webhooks',
  maxAgeSeconds: 300,
  maxBodyBytes: 1024 * 1024,
  retentionSeconds: 7 * 24 * 3600,
  secretCacheSeconds: 300,
  configFile: 'hookwarden.config.json',
} as const;

/** The JSON document of `hookwarden.config.json` (also accepted inline in `HOOKWARDEN_CONFIG_JSON`). */
export interface ConfigDocument {
  sources?: Array<{
    name?: unknown;
    scheme?: unknown;
    secretEnv?: unknown;
    secretArn?: unknown;
    secretKmsKeyArn?: unknown;
    allowedIps?: unknown;
    maxAgeSeconds?: unknown;
    maxBodyBytes?: unknown;
    retentionSeconds?: unknown;
    rateLimit?: unknown;
    clientRateLimit?: unknown;
    hmac?: unknown;
    generateSecret?: unknown;
    rotation?: unknown;
  }>;
  corsOrigins?: unknown;
  trustedProxies?: unknown;
  /** Acknowledged dangerous values, by name (config/risks.ts). */
  acceptRisks?: unknown;
}

/**
 * The variables that describe the `default` source. Beside a config file they
 * would be ignored, so they are refused there (unless a source's `secretEnv` names one).
 */
export const SINGLE_SOURCE_VARIABLES = [
  'WEBHOOK_SECRET',
  'WEBHOOK_SCHEME',
  'WEBHOOK_ALLOWED_IPS',
  'WEBHOOK_MAX_AGE',
  'WEBHOOK_MAX_BODY_BYTES',
  'WEBHOOK_RETENTION_SECONDS',
  'WEBHOOK_RATE_LIMIT',
  'WEBHOOK_CLIENT_RATE_LIMIT',
  'WEBHOOK_HMAC_HEADER',
  'WEBHOOK_HMAC_PREFIX',
  'WEBHOOK_HMAC_ENCODING',
  'WEBHOOK_HMAC_TIMESTAMP_HEADER',
  'WEBHOOK_HMAC_ID_HEADER',
  'WEBHOOK_HMAC_TEMPLATE',
] as const;
