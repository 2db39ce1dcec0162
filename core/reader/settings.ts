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
  /**
   * Read units a token's lists, streams and single reads may read together: one per item of the time-ordered index,
   * one per 4 KB of a single read's record and body parts (`HOOKWARDEN_READ_BUDGET`, like `WEBHOOK_RATE_LIMIT`; see
   * core/reader/read-budget.ts): over it a list or a single read is 429 and an open stream reads less often. Every consumer's reads share that index's one
   * partition. @default 300000/60s
   */
  readonly readBudget: RateLimit;
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
  readBudget: { limit: 300_000, windowSeconds: 60 },
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
 * The variable each setting a deploy may set is read from, by the setting's name at deploy (context key, construct
 * prop). `requestBudgetMs` is not one: it derives from the reader function's timeout.
 */
export const READER_VARIABLES = {
  apiRateLimit: 'HOOKWARDEN_API_RATE_LIMIT',
  streamRateLimit: 'HOOKWARDEN_STREAM_RATE_LIMIT',
  readBudget: 'HOOKWARDEN_READ_BUDGET',
  streamMaxSeconds: 'HOOKWARDEN_STREAM_MAX_SECONDS',
  streamKeepAliveSeconds: 'HOOKWARDEN_STREAM_KEEPALIVE_SECONDS',
  streamPollMs: 'HOOKWARDEN_STREAM_POLL_MS',
  streamSettleMs: 'HOOKWARDEN_STREAM_SETTLE_MS',
  streamLookBackMs: 'HOOKWARDEN_STREAM_LOOKBACK_MS',
} as const;

/** The name of a reader setting a deploy may set (a key of {@link READER_VARIABLES}). */
export type ReaderSettingName = keyof typeof READER_VARIABLES;

/** One of the variables of {@link READER_VARIABLES}. */
export type ReaderVariable = (typeof READER_VARIABLES)[ReaderSettingName];

/**
 * The reader settings a deploy sets, each passed to the reader and events functions as its variable and checked by
 * {@link readerSettings}, the parser the functions run at cold start. Unset, the variable is left out and the
 * function uses its default. A rate is a {@link RateLimit} or its text (`600/60s`, `100/1m`, `5000/1h`).
 */
export interface DeployedReaderSettings {
  /** Requests per token (`HOOKWARDEN_API_RATE_LIMIT`). @default 600/60s */
  readonly apiRateLimit?: RateLimit | string;
  /** Streams a token may open (`HOOKWARDEN_STREAM_RATE_LIMIT`). @default 30/14m */
  readonly streamRateLimit?: RateLimit | string;
  /** Read units a token's lists, single reads and streams may read together (`HOOKWARDEN_READ_BUDGET`). @default 300000/60s */
  readonly readBudget?: RateLimit | string;
  /** How long a stream lasts before it ends by itself, 1 to 870 (`HOOKWARDEN_STREAM_MAX_SECONDS`). @default 840 */
  readonly streamMaxSeconds?: number;
  /** Seconds between keep-alives at most, 1 to 60 (`HOOKWARDEN_STREAM_KEEPALIVE_SECONDS`). @default 15 */
  readonly streamKeepAliveSeconds?: number;
  /** How often a stream queries the index, 50 to 60000 (`HOOKWARDEN_STREAM_POLL_MS`; at least 1000 on AWS). @default 1000 */
  readonly streamPollMs?: number;
  /** How long a delivery is stored before a stream sends it, 0 to 60000 (`HOOKWARDEN_STREAM_SETTLE_MS`). @default 2000 */
  readonly streamSettleMs?: number;
  /** How far behind its position a stream looks again, 0 to 600000 (`HOOKWARDEN_STREAM_LOOKBACK_MS`). @default 30000 */
  readonly streamLookBackMs?: number;
}

/** A setting as its variable's text: a {@link RateLimit} as `<limit>/<seconds>s`, anything else as it is. */
const variableText = (value: RateLimit | string | number): string =>
  typeof value === 'object' && value !== null ? `${value.limit}/${value.windowSeconds}s` : String(value);

/**
 * The variables that carry `settings` to the functions (only the settings given: the functions keep their defaults
 * for the rest), and every problem {@link readerSettings} finds with them, each named by `nameOf` (the context key or
 * prop a deployer wrote, rather than a variable they never set). Any setting may be text, as context gives it.
 */
export const deployedReaderEnvironment = (
  settings: DeployedReaderSettings | { readonly [S in ReaderSettingName]?: RateLimit | string | number },
  nameOf: (setting: ReaderSettingName) => string,
): { readonly environment: Readonly<Record<string, string>>; readonly problems: readonly string[] } => {
  const environment: Record<string, string> = {};
  const settingOf = new Map<string, ReaderSettingName>();
  for (const [setting, variable] of Object.entries(READER_VARIABLES) as Array<[ReaderSettingName, ReaderVariable]>) {
    const value = settings[setting];
    // Blank is unset to the parser too: left out rather than written as an empty variable.
    if (value === undefined || value === '') continue;
    environment[variable] = variableText(value);
    settingOf.set(variable, setting);
  }
  try {
    readerSettings(environment, (variable) => {
      const setting = settingOf.get(variable);
      return setting === undefined ? variable : nameOf(setting);
    });
    return { environment, problems: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { environment, problems: error.problems };
  }
};

/**
 * Reads the deliveries API's settings; every problem reported at once, each named by `nameOf` of its variable (the
 * variable itself unless a deploy names its own setting instead: {@link deployedReaderEnvironment}).
 * @throws ConfigError naming each bad variable
 */
export const readerSettings = (
  env: NodeJS.ProcessEnv = process.env,
  nameOf: (variable: ReaderVariable) => string = (variable) => variable,
): ReaderSettings => {
  const problems: string[] = [];
  const rate = (variable: ReaderVariable, fallback: RateLimit): RateLimit => {
    const raw = env[variable];
    if (!raw) return fallback;
    const parsed = parseRateLimit(raw);
    if (typeof parsed !== 'string') return parsed;
    problems.push(`${nameOf(variable)}: ${parsed}`);
    return fallback;
  };
  const number = (variable: ReaderVariable, min: number, max: number, fallback: number, scale = 1): number =>
    whole(problems, nameOf(variable), env[variable], min, max, fallback, scale);
  const settings: ReaderSettings = {
    apiRateLimit: rate('HOOKWARDEN_API_RATE_LIMIT', READER_DEFAULTS.apiRateLimit),
    streamRateLimit: rate('HOOKWARDEN_STREAM_RATE_LIMIT', READER_DEFAULTS.streamRateLimit),
    readBudget: rate('HOOKWARDEN_READ_BUDGET', READER_DEFAULTS.readBudget),
    // 14 min 30 s at most: Lambda stops at 15 min.
    streamMaxMs: number('HOOKWARDEN_STREAM_MAX_SECONDS', 1, 870, READER_DEFAULTS.streamMaxMs, 1000),
    // Regional API Gateway drops a connection idle for 5 minutes; keep well under it.
    keepAliveMs: number('HOOKWARDEN_STREAM_KEEPALIVE_SECONDS', 1, 60, READER_DEFAULTS.keepAliveMs, 1000),
    pollMs: number('HOOKWARDEN_STREAM_POLL_MS', 50, 60_000, READER_DEFAULTS.pollMs),
    settleMs: number('HOOKWARDEN_STREAM_SETTLE_MS', 0, 60_000, READER_DEFAULTS.settleMs),
    lookBackMs: number('HOOKWARDEN_STREAM_LOOKBACK_MS', 0, 600_000, READER_DEFAULTS.lookBackMs),
    requestBudgetMs: READER_DEFAULTS.requestBudgetMs,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
};
