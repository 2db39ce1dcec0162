import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULTS } from '../functions/shared/config';
import type { HmacSchemeOptions } from '../functions/shared/schemes/types';

/** One source as the stack deploys it. */
export interface DeployedSource {
  readonly name: string;
  readonly scheme: string;
  /** An existing Secrets Manager secret (ARN) holding the source's key document; when set, the stack creates none. */
  readonly secretArn?: string;
  /** Whether the stack creates a secret for the source (when no secretArn). @default true */
  readonly generateSecret: boolean;
  readonly allowedIps: readonly string[];
  readonly maxAgeSeconds: number;
  readonly maxBodyBytes: number;
  readonly retentionSeconds: number;
  /** Sliding-window limits, as in the config file (`600/60s`). */
  readonly rateLimit?: string;
  readonly clientRateLimit?: string;
  readonly hmac?: HmacSchemeOptions;
}

/** Everything the CDK app decides from the config file and context. */
export interface DeploymentSettings {
  readonly stage: 'dev' | 'prod';
  readonly sources: readonly DeployedSource[];
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly alarmEmail?: string;
  readonly wafEnabled: boolean;
  /** Requests per client IP per 5 minutes before WAF blocks it (providers send from few IPs: keep it generous). @default 10000 */
  readonly wafRateLimitPer5Minutes: number;
  /** Set (with a reason) to deploy prod without WAF on purpose. */
  readonly wafDisabledAcknowledged?: string;
  /** `NODE_ENV` / `DEBUG` for the functions: prod is production unless debug is asked for (which the checklist refuses). */
  readonly debug: boolean;
  /** Where the sources came from. */
  readonly origin: string;
}

/** Reads a context value as a string, or undefined. */
export type ContextReader = (key: string) => unknown;

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];

const bool = (value: unknown, fallback: boolean): boolean =>
  value === undefined ? fallback : value === true || value === 'true' || value === '1';

interface RawSource {
  name?: string;
  scheme?: string;
  secretArn?: string;
  generateSecret?: boolean;
  allowedIps?: string[];
  maxAgeSeconds?: number;
  maxBodyBytes?: number;
  retentionSeconds?: number;
  rateLimit?: string;
  clientRateLimit?: string;
  hmac?: HmacSchemeOptions;
}

/**
 * The deployment settings: sources, CORS origins and trusted proxies from the
 * same `hookwarden.config.json` the local server reads (or `HOOKWARDEN_CONFIG`),
 * else one `default` source from `WEBHOOK_SCHEME`; context `stage`, `alarmEmail`,
 * `corsOrigins` (overrides the file), `wafEnabled` (default true in prod), `wafRateLimit`,
 * `wafDisabledReason`, `debug`.
 */
export const readSettings = (context: ContextReader, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DeploymentSettings => {
  const stage = context('stage') === 'prod' ? 'prod' : 'dev';
  const path = resolve(cwd, env.HOOKWARDEN_CONFIG || DEFAULTS.configFile);
  const document = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { sources?: RawSource[]; corsOrigins?: string[]; trustedProxies?: string[] }) : undefined;
  const rawSources: RawSource[] = document?.sources ?? [{ name: 'default', scheme: env.WEBHOOK_SCHEME || DEFAULTS.scheme }];
  const sources = rawSources.map((raw) => ({
    name: String(raw.name),
    scheme: raw.scheme ?? DEFAULTS.scheme,
    ...(raw.secretArn ? { secretArn: raw.secretArn } : {}),
    generateSecret: raw.generateSecret ?? true,
    allowedIps: raw.allowedIps ?? [],
    maxAgeSeconds: raw.maxAgeSeconds ?? DEFAULTS.maxAgeSeconds,
    maxBodyBytes: raw.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    retentionSeconds: raw.retentionSeconds ?? DEFAULTS.retentionSeconds,
    ...(raw.rateLimit ? { rateLimit: raw.rateLimit } : {}),
    ...(raw.clientRateLimit ? { clientRateLimit: raw.clientRateLimit } : {}),
    ...(raw.hmac ? { hmac: raw.hmac } : {}),
  }));
  const corsContext = context('corsOrigins');
  const alarmEmail = context('alarmEmail');
  const wafDisabledReason = context('wafDisabledReason');
  return {
    stage,
    sources,
    corsOrigins: corsContext !== undefined ? list(corsContext) : (document?.corsOrigins ?? []),
    trustedProxies: document?.trustedProxies ?? [],
    ...(typeof alarmEmail === 'string' && alarmEmail ? { alarmEmail } : {}),
    wafEnabled: bool(context('wafEnabled'), stage === 'prod'),
    wafRateLimitPer5Minutes: Number(context('wafRateLimit') ?? 10_000),
    ...(typeof wafDisabledReason === 'string' && wafDisabledReason ? { wafDisabledAcknowledged: wafDisabledReason } : {}),
    debug: bool(context('debug'), false),
    origin: document ? path : 'environment',
  };
};
