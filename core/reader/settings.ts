import { ConfigError } from '../errors.js';
import { parseRateLimit, type RateLimit } from '../rate-limit/sliding-window.js';
import { READER_DEADLINE } from './deadline.js';

/** How the deliveries API and its event stream behave, from the environment. */
export interface ReaderSettings {
  /** Requests per token (`HOOKWARDEN_API_RATE_LIMIT`, like `WEBHOOK_RATE_LIMIT`). @default 600/60s */
  readonly apiRateLimit: RateLimit;
  /**
   * Streams per token opened (`HOOKWARDEN_STREAM_RATE_LIMIT`, like `WEBHOOK_RATE_LIMIT`), on top of
   * `apiRateLimit`: a stream lasts up to `streamMaxMs`, so this bounds how many one token holds open. @default 30/14m
   */
  readonly streamRateLimit: RateLimit;
  /** A stream ends by itself after this long; the client resumes (`HOOKWARDEN_STREAM_MAX_SECONDS`). @default 840 (14 min, under Lambda's 15) */
  readonly streamMaxMs: number;
  /** A comment line at least this often (`HOOKWARDEN_STREAM_KEEPALIVE_SECONDS`). @default 15 */
  readonly keepAliveMs: number;
  /** How often a stream queries the index (`HOOKWARDEN_STREAM_POLL_MS`, at least 1000 on AWS). @default 1000 */
  readonly pollMs: number;
  /**
   * A delivery is sent once it has been stored this long (`HOOKWARDEN_STREAM_SETTLE_MS`), so one
   * stored a moment earlier by a slower writer, or not yet in the index, is never passed over. @default 2000
   */
  readonly settleMs: number;
  /** How far behind the newest event a stream looks again for deliveries that became visible late (`HOOKWARDEN_STREAM_LOOKBACK_MS`). @default 30000 */
  readonly lookBackMs: number;
  /**
   * `GET /deliveries`, `GET /deliveries/{source}/{id}` and the opening of `GET /events` (everything before its
   * first byte) answer 503 `unavailable` (with `Retry-After`) after this long at most, or sooner when the function has less time left (see core/reader/deadline.ts). Not read
   * from the environment: derived from the reader function's timeout, so the two cannot drift. @default 8000
   */
  readonly requestBudgetMs: number;
}

/** Every default in one place. */
export const READER_DEFAULTS: ReaderSettings = {
  apiRateLimit: { limit: 600, windowSeconds: 60 },
  streamRateLimit: { limit: 30, windowSeconds: 840 },
  streamMaxMs: 840_000,
  keepAliveMs: 15_000,
  pollMs: 1_000,
  settleMs: 2_000,
  lookBackMs: 30_000,
  requestBudgetMs: READER_DEADLINE.budgetMs,
};

const whole = (
  problems: string[],
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  fallback: number,
  scale = 1,
): number => {
  if (raw === undefined || raw === '') return fallback;
  const value = /^\s*\d{1,9}\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    problems.push(`${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value * scale;
};

/**
 * Reads the deliveries API's settings; every problem reported at once.
 * @throws ConfigError naming each bad variable
 */
export const readerSettings = (env: NodeJS.ProcessEnv = process.env): ReaderSettings => {
  const problems: string[] = [];
  let apiRateLimit = READER_DEFAULTS.apiRateLimit;
  if (env.HOOKWARDEN_API_RATE_LIMIT) {
    const parsed = parseRateLimit(env.HOOKWARDEN_API_RATE_LIMIT);
    if (typeof parsed === 'string') problems.push(`HOOKWARDEN_API_RATE_LIMIT: ${parsed}`);
    else apiRateLimit = parsed;
  }
  let streamRateLimit = READER_DEFAULTS.streamRateLimit;
  if (env.HOOKWARDEN_STREAM_RATE_LIMIT) {
    const parsed = parseRateLimit(env.HOOKWARDEN_STREAM_RATE_LIMIT);
    if (typeof parsed === 'string') problems.push(`HOOKWARDEN_STREAM_RATE_LIMIT: ${parsed}`);
    else streamRateLimit = parsed;
  }
  const settings: ReaderSettings = {
    apiRateLimit,
    streamRateLimit,
    // 14 min 30 s at most: Lambda stops at 15 min.
    streamMaxMs: whole(
      problems,
      'HOOKWARDEN_STREAM_MAX_SECONDS',
      env.HOOKWARDEN_STREAM_MAX_SECONDS,
      1,
      870,
      READER_DEFAULTS.streamMaxMs,
      1000,
    ),
    // Regional API Gateway drops a connection idle for 5 minutes; keep well under it.
    keepAliveMs: whole(
      problems,
      'HOOKWARDEN_STREAM_KEEPALIVE_SECONDS',
      env.HOOKWARDEN_STREAM_KEEPALIVE_SECONDS,
      1,
      60,
      READER_DEFAULTS.keepAliveMs,
      1000,
    ),
    pollMs: whole(problems, 'HOOKWARDEN_STREAM_POLL_MS', env.HOOKWARDEN_STREAM_POLL_MS, 50, 60_000, READER_DEFAULTS.pollMs),
    settleMs: whole(problems, 'HOOKWARDEN_STREAM_SETTLE_MS', env.HOOKWARDEN_STREAM_SETTLE_MS, 0, 60_000, READER_DEFAULTS.settleMs),
    lookBackMs: whole(problems, 'HOOKWARDEN_STREAM_LOOKBACK_MS', env.HOOKWARDEN_STREAM_LOOKBACK_MS, 0, 600_000, READER_DEFAULTS.lookBackMs),
    requestBudgetMs: READER_DEFAULTS.requestBudgetMs,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
};
