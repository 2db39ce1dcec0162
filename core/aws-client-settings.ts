import { Logger } from '@aws-lambda-powertools/logger';
import { DEFAULT_METRICS_IDENTITY } from './telemetry.js';

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

/** Where a line of the AWS SDK's own goes (a warning or an error it prints, never a call's input or output). */
export type SdkLogSink = (level: 'warn' | 'error', message: string) => void;

let powertools: Logger | undefined;
/** The functions' and the local server's way: one Powertools line, as their own (the logger is made at the first line). */
const toPowertools: SdkLogSink = (level, message) => {
  powertools ??= new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_METRICS_IDENTITY.service });
  powertools[level](message, { origin: 'aws-sdk' });
};
let sink: SdkLogSink = toPowertools;

/**
 * Sends the AWS SDK's own lines of every client built with {@link awsClientSettings} (those already built too) to
 * `to` instead of a Powertools Logger (JSON on standard output): the command line's way, to standard error, so that
 * `--json` output stays clean. (Left alone, the SDK's HTTP handler prints through `console`: never in product code.)
 * @returns where they went before
 */
export const routeSdkLogs = (to: SdkLogSink): SdkLogSink => {
  const before = sink;
  sink = to;
  return before;
};

const ignore = (): void => undefined;
const lineOf = (content: readonly unknown[]): string =>
  content.map((part) => (typeof part === 'string' ? part : `[${typeof part}]`)).join(' ');

/**
 * The HTTP handler's logger: @smithy/node-http-handler 4.14 warns through it when a client's sockets are all in use
 * and requests queue behind them (its own `logger` option, else the client's, else `console`). It is not the
 * client's `logger`: the SDK would hand that every call's input and output (a delivery's body) and filter a copy of
 * them on each call.
 */
const sdkLogger = {
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: (...content: unknown[]): void => sink('warn', lineOf(content)),
  error: (...content: unknown[]): void => sink('error', lineOf(content)),
};

/**
 * The settings every AWS SDK client of the project is built with (spread them into its configuration), so that
 * a slow attempt really ends. In @smithy/node-http-handler 4.14 `requestTimeout` alone only prints a warning
 * through `console` when it passes and keeps waiting (a silent connection is given up after 300 s, or never
 * without a socket timeout); `throwOnRequestTimeout` ends the attempt with a `TimeoutError`, which the SDK retries
 * on a fresh connection up to `maxAttempts`. Such an attempt may still have reached the service: the stores treat
 * it as a lost answer (their own tokens and marks, core/stores/dynamodb-errors.ts). A client whose sockets are all
 * in use with a queue behind them (twice as many requests) says so once a call has waited a connection's time,
 * before its attempt times out: the handler's default, after it, never came, the attempt having ended. That line
 * goes to a Powertools Logger, or where {@link routeSdkLogs} says.
 * @example new SecretsManagerClient({ ...awsClientSettings() })
 */
export const awsClientSettings = (options: AwsClientSettingsOptions = {}) => {
  const connectionTimeout = options.connectionTimeoutMs ?? AWS_CLIENT_DEFAULTS.connectionTimeoutMs;
  return {
    maxAttempts: options.maxAttempts ?? AWS_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout,
      requestTimeout: options.requestTimeoutMs ?? AWS_CLIENT_DEFAULTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketAcquisitionWarningTimeout: connectionTimeout,
      logger: sdkLogger,
    },
  };
};
