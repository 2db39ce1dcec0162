/** Options of {@link awsClientSettings}. */
export interface AwsClientSettingsOptions {
  /** Attempts per call, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** How long to wait for a connection. @default 1000 */
  readonly connectionTimeoutMs?: number;
  /** How long one attempt may take before it is ended and retried. @default 3000 */
  readonly requestTimeoutMs?: number;
}

/** The request path's settings: 3 attempts of up to 3 s each, a connection within 1 s. */
export const AWS_CLIENT_DEFAULTS = { maxAttempts: 3, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 } as const;

/**
 * An operator's or a scheduled function's calls (the command line, the rotation and key-age functions): no
 * caller waits behind them on an HTTP answer, so an attempt may take longer before it is ended.
 */
export const CONTROL_PLANE_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The settings every AWS SDK client of the project is built with (spread them into its configuration), so that
 * a slow attempt really ends. In @smithy/node-http-handler 4.14 `requestTimeout` alone only prints a warning
 * through `console` when it passes and keeps waiting (a silent connection is given up after 300 s, or never
 * without a socket timeout); `throwOnRequestTimeout` ends the attempt with a `TimeoutError`, which the SDK retries
 * on a fresh connection up to `maxAttempts`. Such an attempt may still have reached the service: the stores treat
 * it as a lost answer (their own tokens and marks, core/stores/dynamodb-errors.ts).
 * @example new SecretsManagerClient({ ...awsClientSettings() })
 */
export const awsClientSettings = (options: AwsClientSettingsOptions = {}) => ({
  maxAttempts: options.maxAttempts ?? AWS_CLIENT_DEFAULTS.maxAttempts,
  requestHandler: {
    connectionTimeout: options.connectionTimeoutMs ?? AWS_CLIENT_DEFAULTS.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs ?? AWS_CLIENT_DEFAULTS.requestTimeoutMs,
    throwOnRequestTimeout: true,
  },
});
