import { existsSync } from 'node:fs';
import {
  configFilePath,
  DEBUG_FALSE,
  DEBUG_TRUE,
  DEFAULTS,
  describeConfig,
  SINGLE_SOURCE_VARIABLES,
  type SourceDescription,
} from '../core/config/index.js';
import { HMAC_VARIABLES } from '../core/config/hmac.js';
import { editDistance, nearest } from '../core/config/keys.js';
import { list, positiveInt, Problems } from '../core/config/rules.js';
import {
  deployedReaderEnvironment,
  READER_VARIABLES,
  readerSettings as parseReaderSettings,
  type DeployedReaderSettings,
  type ReaderSettingName,
} from '../core/reader/settings.js';

/**
 * One source as the stack deploys it: the one parser's description
 * (core/config), checked by the same rules as the local server and the functions.
 */
export type DeployedSource = SourceDescription;

/** Everything the CDK app decides from the config file and context. */
export interface DeploymentSettings {
  /** Context `stage`: prod runs the production checklist and keeps data on stack deletion. @default 'dev' */
  readonly stage: 'dev' | 'prod';
  /** From the config file, else one `default` source. */
  readonly sources: readonly DeployedSource[];
  /** Exact origins for CORS (context `corsOrigins` overrides the file). */
  readonly corsOrigins: readonly string[];
  /** Peers whose `X-Forwarded-For` is believed (config file). @default [] */
  readonly trustedProxies: readonly string[];
  /** Subscribed to the alarm topic. @default - no subscription (refused in prod) */
  readonly alarmEmail?: string;
  /**
   * Context `frontDoor`: the API Gateway in front of the functions, a `rest`
   * API (WAF-capable) or an `http-api` (HTTP API: $1.00 per million requests
   * against REST's $3.50, and no WAF). Same routes and handlers either way.
   * @default 'rest'
   */
  readonly frontDoor: FrontDoor;
  /** @default true in prod with the REST front door, false otherwise (an HTTP API cannot carry a WAF) */
  readonly wafEnabled: boolean;
  /**
   * Requests per client IP per 5 minutes before WAF blocks it (context
   * `wafRateLimit`). Providers deliver from few addresses, and some never retry
   * a refused delivery: keep it generous.
   * @default 10000
   */
  readonly wafRateLimitPer5Minutes: number;
  /** The acknowledgement needed to deploy prod without WAF (context `wafDisabledReason`). @default - none */
  readonly wafDisabledReason?: string;
  /** Detailed error answers (`DEBUG=true`); refused in prod. @default false */
  readonly debug: boolean;
  /** How long the function caches a source's secret document. @default 300 */
  readonly secretCacheSeconds: number;
  /**
   * Context `cloudTrail`: `create` a trail for management events (the audit of
   * secret reads sees nothing without one), rely on the account's `existing`
   * trail, or `none` (the audit is then blind; refused in prod).
   * @default 'create' in prod, 'existing' in dev
   */
  readonly cloudTrail: 'create' | 'existing' | 'none';
  /**
   * Context `tracing`: X-Ray tracing of the API stage. Off by default: at
   * webhook rates most requests fall in X-Ray's sampling reservoir and are
   * traced, at $5 per million traces (more than the API itself at low volume).
   * @default false
   */
  readonly tracing: boolean;
  /**
   * Context `apiGatewayCloudWatchRole`: `create` API Gateway's account-level
   * CloudWatch role (one per account and region, which every stack that
   * creates it overwrites), or rely on the `existing` one.
   * @default 'create', or 'existing' when the app sets CDK's `@aws-cdk/aws-apigateway:disableCloudWatchRole` flag
   */
  readonly apiGatewayCloudWatchRole: 'create' | 'existing';
  /**
   * Context `reservedConcurrency`: concurrent executions reserved for the webhook function, which are also its most
   * (`none`: no reservation). Stage throttling bounds the request rate, not how many run at once: at 100 requests a
   * second held up to the 10 s timeout by a slow dependency, the webhook function alone could take the default account
   * quota of 1,000, and every other function in the account and region (the rotation function included) would be
   * throttled. The reservation is carved out of the account's pool (Lambda keeps 100 unreserved: an account whose
   * quota is under 200 cannot deploy 100), and a value too low for the traffic throttles deliveries: API Gateway
   * answers 503 `unavailable` with `Retry-After`, which providers retry. With it, the rotation function reserves one
   * execution per `github` or `shared` source (lib/constructs/secret-rotation.ts), carved out of the same pool.
   * @default 100 in prod, none in dev
   */
  readonly reservedConcurrency?: number;
  /** Where the sources came from (the config file's path, or `environment`). */
  readonly origin: string;
  /** The file's `acceptRisks`, passed on to the functions' configuration. @default [] */
  readonly acceptRisks?: readonly string[];
  /**
   * `HOOKWARDEN_GITHUB_API_URL` of the deployer's environment: the REST API the
   * rotation function sets `github` hooks' secrets through (GitHub Enterprise
   * Server's `https://<host>/api/v3`). @default - https://api.github.com
   */
  readonly githubApiUrl?: string;
  /**
   * Context `apiRateLimit`, `streamRateLimit`, `readBudget`, `streamMaxSeconds`, `streamKeepAliveSeconds`,
   * `streamPollMs`, `streamSettleMs`, `streamLookBackMs`: the deliveries API's settings (core/reader/settings.ts), given
   * to its reader and events functions. Only those set; each unset one is the functions' default.
   * @default {}
   */
  readonly readerSettings?: DeployedReaderSettings;
}

/** The kinds of API Gateway the stack can put in front of the functions (context `frontDoor`). */
export const FRONT_DOORS = ['rest', 'http-api'] as const;
/** One of {@link FRONT_DOORS}. */
export type FrontDoor = (typeof FRONT_DOORS)[number];

/** What {@link readSettings} found: the settings, and every problem with the inputs. */
export interface SettingsResult {
  readonly settings: DeploymentSettings;
  /** Each problem names its key or variable; empty when the inputs are valid. */
  readonly problems: readonly string[];
}

/** Reads one CDK context value. */
export type ContextReader = (key: string) => unknown;

/** Every context key the deploy reads (`-c key=value`, or `context` in cdk.json). */
export const CONTEXT_KEYS = [
  'stage',
  'alarmEmail',
  'corsOrigins',
  'frontDoor',
  'wafEnabled',
  'wafRateLimit',
  'wafDisabledReason',
  'debug',
  'secretCacheSeconds',
  'cloudTrail',
  'tracing',
  'apiGatewayCloudWatchRole',
  'reservedConcurrency',
  ...(Object.keys(READER_VARIABLES) as ReaderSettingName[]),
] as const;

/**
 * One problem per context key that is not one of {@link CONTEXT_KEYS} but is within two edits of one (or the same but
 * for letter case): `-c stgae=prod` would otherwise deploy the dev stage, and `-c corsOrigin=…` no CORS origins, in
 * silence. Other keys are left alone: CDK's own (`@aws-cdk/…`, `aws:cdk:…`), an app's own far from every known key,
 * and those in `ownKeys` (`createApp`'s `ownContextKeys`: an app's `stages` is not a typo of `stage`).
 */
export const mistypedContextKeys = (keys: readonly string[], ownKeys: readonly string[] = []): string[] =>
  keys
    .filter((key) => /^[A-Za-z][A-Za-z0-9]*$/.test(key) && !(CONTEXT_KEYS as readonly string[]).includes(key) && !ownKeys.includes(key))
    .flatMap((key) => {
      const near = nearest(key, CONTEXT_KEYS);
      return editDistance(key, near) <= 2
        ? [
            `context ${key}: unknown key, which cdk deploy would ignore; the nearest known key is "${near}" ` +
              "(an app's own key: pass it in createApp's ownContextKeys)",
          ]
        : [];
    });

/**
 * CDK's feature flag (`cx-api`'s `APIGATEWAY_DISABLE_CLOUDWATCH_ROLE`) by which an app says it manages API Gateway's
 * account-level CloudWatch role elsewhere. Spelled out: the CLI reads these settings without aws-cdk-lib installed.
 */
export const DISABLE_CLOUDWATCH_ROLE_FLAG = '@aws-cdk/aws-apigateway:disableCloudWatchRole';

/** The webhook function's reserved concurrency in prod, unless context `reservedConcurrency` says otherwise. */
export const PROD_RESERVED_CONCURRENCY = 100;

/** Context `reservedConcurrency`: a whole number, or `none`; unset, {@link PROD_RESERVED_CONCURRENCY} in prod and none in dev. */
const reservedConcurrency = (problems: Problems, raw: unknown, stage: 'dev' | 'prod'): number | undefined => {
  if (raw === undefined) return stage === 'prod' ? PROD_RESERVED_CONCURRENCY : undefined;
  if (raw === 'none') return undefined;
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100_000) {
    problems.add('context reservedConcurrency', `must be a whole number from 1 to 100000, or "none", got ${JSON.stringify(raw)}`);
    return undefined;
  }
  return value;
};

/**
 * The deliveries API's settings from context (`-c readBudget=60000/60s`; a number in cdk.json), only those given, and
 * every problem the functions' own parser (core/reader/settings.ts) finds with them, named by context key.
 */
const readerContext = (problems: Problems, read: (key: ReaderSettingName) => unknown): DeployedReaderSettings => {
  const given: Partial<Record<ReaderSettingName, string>> = {};
  for (const key of Object.keys(READER_VARIABLES) as ReaderSettingName[]) {
    const raw = read(key);
    // Anything but text or a number (true, a list) is quoted, so that the parser refuses it rather than its String().
    if (raw !== undefined) given[key] = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : JSON.stringify(raw);
  }
  const { problems: found } = deployedReaderEnvironment(given, (key) => `context ${key}`);
  problems.items.push(...found);
  const settings: Record<string, string | number> = {};
  for (const [key, text] of Object.entries(given)) {
    if (text === '') continue;
    // Checked above: a whole number is one of the whole-number settings (a rate has its window), a rate stays text.
    settings[key] = /^\s*\d+\s*$/.test(text) ? Number(text) : text;
  }
  return settings as DeployedReaderSettings;
};

/** Requests per client IP per 5 minutes. */
const WAF_RATE_LIMIT_DEFAULT = 10_000;
/** What an alarm email must look like (context `alarmEmail`, `SecurityAlarms`' `alarmEmail`): SNS refuses a subscription to less. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const contextList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((v) => String(v).trim()).filter(Boolean) : list(String(value));

const contextBool = (problems: Problems, key: string, value: unknown, fallback: boolean): boolean => {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  problems.add(`context ${key}`, `must be true or false, got ${JSON.stringify(value)}`);
  return fallback;
};

/** `{ [key]: value }` when there is a value, else nothing (settings hold no `undefined`). */
const optionalNumber = <K extends string>(key: K, value: number | undefined): { [P in K]?: number } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };

const contextString = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** WAF's rate-based rules accept 10 to 2,000,000,000 requests per evaluation window. */
const wafRateLimit = (problems: Problems, raw: unknown): number => {
  const value = positiveInt(problems, 'context wafRateLimit', raw, WAF_RATE_LIMIT_DEFAULT, 2_000_000_000);
  if (value < 10) {
    problems.add('context wafRateLimit', `must be at least 10 requests per 5 minutes (WAF's minimum), got ${value}`);
    return WAF_RATE_LIMIT_DEFAULT;
  }
  return value;
};

/**
 * What the deploy reads of the deployer's environment: the config file's path
 * and, without a file, the `default` source's scheme and acknowledged risks.
 * Never a secret (each source gets its own Secrets Manager secret), never an
 * inline HOOKWARDEN_CONFIG_JSON (the functions' format, not a deploy input).
 */
const DEPLOY_VARIABLES = ['WEBHOOK_SCHEME', ...Object.values(HMAC_VARIABLES), 'HOOKWARDEN_ACCEPT_RISKS'];

const deployEnvironment = (env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv => {
  const deploy: NodeJS.ProcessEnv = env.HOOKWARDEN_CONFIG ? { HOOKWARDEN_CONFIG: env.HOOKWARDEN_CONFIG } : {};
  if (existsSync(configFilePath(env, cwd))) return deploy;
  for (const variable of DEPLOY_VARIABLES) if (env[variable] !== undefined) deploy[variable] = env[variable];
  return deploy;
};

/**
 * Variables `npm start` and the functions read that the deploy does not: set in the deployer's environment (exported
 * for `npm start`, say) they would be left out of the stack, and an allowlist or a limit deployed as none. Refused,
 * as `npm start` refuses a variable its config file makes it ignore. `WEBHOOK_SECRET` is not one: secrets never come
 * from the deployer's environment (each source gets its own Secrets Manager secret).
 */
const NOT_DEPLOYED = [
  ...SINGLE_SOURCE_VARIABLES.filter((variable) => variable !== 'WEBHOOK_SECRET'),
  'CORS_ORIGINS',
  'TRUSTED_PROXIES',
  'HOOKWARDEN_CONFIG_JSON',
];

const leftOut = (problems: Problems, env: NodeJS.ProcessEnv, deploy: NodeJS.ProcessEnv, origin: string): void => {
  for (const variable of NOT_DEPLOYED) {
    if (!env[variable] || deploy[variable] !== undefined) continue;
    const instead =
      variable === 'CORS_ORIGINS'
        ? 'give the origins as -c corsOrigins=… or in the config file\'s "corsOrigins"'
        : variable === 'TRUSTED_PROXIES'
          ? 'list the proxies in the config file\'s "trustedProxies"'
          : origin === 'environment'
            ? 'describe the source in hookwarden.config.json (without one the deploy reads WEBHOOK_SCHEME and WEBHOOK_HMAC_* only)'
            : `configure the source in ${origin}`;
    problems.add(
      variable,
      `is set, but cdk deploy does not read it from the environment, so the stack would be deployed without it: ${instead}, and unset ${variable}`,
    );
  }
};

/**
 * The deployment settings and every problem with them. Sources, CORS origins and
 * trusted proxies come from the same `hookwarden.config.json` the local server
 * reads (or the path in `HOOKWARDEN_CONFIG`), validated by the same rules; with
 * no file, one `default` source from `WEBHOOK_SCHEME`. Context: `stage` (`dev`
 * or `prod`), `alarmEmail`, `corsOrigins` (comma-separated, overrides the file),
 * `frontDoor` (`rest` or `http-api`, default `rest`), `wafEnabled` (default true in prod with the
 * REST front door), `wafRateLimit` (per IP per 5 minutes,
 * default 10000), `wafDisabledReason`, `debug`, `secretCacheSeconds`, `cloudTrail`, `tracing`, `apiGatewayCloudWatchRole`,
 * `reservedConcurrency` (the webhook function's; default 100 in prod, none in dev; `none`), and the deliveries API's
 * `apiRateLimit`, `streamRateLimit`, `readBudget`, `streamMaxSeconds`, `streamKeepAliveSeconds`, `streamPollMs`,
 * `streamSettleMs` and `streamLookBackMs` (its functions' variables, checked by their own parser; unset: their defaults).
 *
 * Secrets never come from here: each source gets its own Secrets Manager secret.
 */
export const readSettings = (context: ContextReader, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): SettingsResult => {
  const problems = new Problems();
  // Only the keys of CONTEXT_KEYS, so that mistypedContextKeys knows every key read here.
  const read = (key: (typeof CONTEXT_KEYS)[number]): unknown => context(key);
  const rawStage = read('stage') ?? 'dev';
  if (rawStage !== 'dev' && rawStage !== 'prod') problems.add('context stage', `must be "dev" or "prod", got ${JSON.stringify(rawStage)}`);
  const stage = rawStage === 'prod' ? 'prod' : 'dev';

  const corsContext = read('corsOrigins');
  // The one parser; context corsOrigins stands in for the file's, under the checklist item's name.
  const deploy = deployEnvironment(env, cwd);
  const described = describeConfig(deploy, cwd, {
    completeSecretArns: true,
    ...(corsContext !== undefined ? { corsOrigins: { values: contextList(corsContext), where: 'CORS origins' } } : {}),
  });
  problems.items.push(...described.problems);
  leftOut(problems, env, deploy, described.origin);
  const { sources, corsOrigins, trustedProxies, acceptRisks } = described.description;

  const alarmEmail = contextString(read('alarmEmail'));
  if (alarmEmail && !EMAIL.test(alarmEmail)) problems.add('context alarmEmail', `"${alarmEmail}" is not an email address`);
  const wafDisabledReason = contextString(read('wafDisabledReason'));
  const rawTrail = read('cloudTrail') ?? (stage === 'prod' ? 'create' : 'existing');
  if (rawTrail !== 'create' && rawTrail !== 'existing' && rawTrail !== 'none')
    problems.add('context cloudTrail', `must be "create", "existing" or "none", got ${JSON.stringify(rawTrail)}`);
  // An app that sets CDK's flag manages API Gateway's one CloudWatch role setting elsewhere: a role of ours would take
  // it over. Read as CDK reads it: any value set counts, and unset is off in CDK v2.
  const rawRole = read('apiGatewayCloudWatchRole') ?? (context(DISABLE_CLOUDWATCH_ROLE_FLAG) ? 'existing' : 'create');
  if (rawRole !== 'create' && rawRole !== 'existing')
    problems.add('context apiGatewayCloudWatchRole', `must be "create" or "existing", got ${JSON.stringify(rawRole)}`);
  const cloudTrail = rawTrail === 'create' || rawTrail === 'none' ? rawTrail : 'existing';
  const rawDoor = read('frontDoor') ?? 'rest';
  if (!FRONT_DOORS.includes(rawDoor as FrontDoor))
    problems.add('context frontDoor', `must be "rest" or "http-api", got ${JSON.stringify(rawDoor)}`);
  const frontDoor: FrontDoor = rawDoor === 'http-api' ? 'http-api' : 'rest';
  const before = problems.items.length;
  const wafEnabled = contextBool(problems, 'wafEnabled', read('wafEnabled'), stage === 'prod' && frontDoor === 'rest');
  if (wafEnabled && frontDoor === 'http-api')
    problems.add('context wafEnabled', 'an HTTP API (frontDoor=http-api) cannot carry a WAF: use frontDoor=rest, or drop wafEnabled');
  // A per-IP limit given for a stack without a WAF would limit nothing, in silence (the dev default has no WAF).
  if (!wafEnabled && problems.items.length === before && read('wafRateLimit') !== undefined)
    problems.add(
      'context wafRateLimit',
      frontDoor === 'http-api'
        ? 'is set, but an HTTP API (frontDoor=http-api) has no WAF, so no per-IP limit would apply: use frontDoor=rest with wafEnabled=true, or drop wafRateLimit'
        : `is set, but this ${stage} stack deploys no WAF (wafEnabled is false), so no per-IP limit would apply: add -c wafEnabled=true, or drop wafRateLimit`,
    );
  const tracing = contextBool(problems, 'tracing', read('tracing'), false);
  if (tracing && frontDoor === 'http-api')
    problems.add('context tracing', 'an HTTP API (frontDoor=http-api) has no X-Ray tracing: use frontDoor=rest, or drop tracing');
  const githubApiUrl = env.HOOKWARDEN_GITHUB_API_URL?.trim() || undefined;
  if (githubApiUrl !== undefined) {
    const url = URL.canParse(githubApiUrl) ? new URL(githubApiUrl) : undefined;
    if (url?.protocol !== 'https:' || url.username || url.password)
      problems.add(
        'HOOKWARDEN_GITHUB_API_URL',
        // Not echoed: a mistyped value may hold a password.
        'must be an https URL without user or password (GitHub Enterprise Server: https://<host>/api/v3)',
      );
  }
  const readerSettings = readerContext(problems, read);
  // As wafRateLimit without a WAF: a setting of an API the stack does not serve would tune nothing, in silence.
  if (frontDoor === 'http-api')
    for (const key of Object.keys(readerSettings))
      problems.add(
        `context ${key}`,
        'is set, but an HTTP API (frontDoor=http-api) serves no deliveries API, so it would apply to nothing: use frontDoor=rest, or drop it',
      );
  const settings: DeploymentSettings = {
    stage,
    sources,
    corsOrigins,
    trustedProxies,
    ...(alarmEmail ? { alarmEmail } : {}),
    frontDoor,
    wafEnabled,
    wafRateLimitPer5Minutes: wafRateLimit(problems, read('wafRateLimit')),
    ...(wafDisabledReason ? { wafDisabledReason } : {}),
    debug: contextBool(problems, 'debug', read('debug'), false),
    secretCacheSeconds: positiveInt(
      problems,
      'context secretCacheSeconds',
      read('secretCacheSeconds'),
      DEFAULTS.secretCacheSeconds,
      86_400,
    ),
    cloudTrail,
    tracing,
    apiGatewayCloudWatchRole: rawRole === 'existing' ? 'existing' : 'create',
    ...optionalNumber('reservedConcurrency', reservedConcurrency(problems, read('reservedConcurrency'), stage)),
    origin: described.origin,
    acceptRisks,
    ...(githubApiUrl ? { githubApiUrl } : {}),
    ...(Object.keys(readerSettings).length > 0 ? { readerSettings } : {}),
  };
  runtimeSettingsLeftOut(problems, env, settings);
  readerSettingsLeftOut(problems, env, settings);
  return { settings, problems: problems.items };
};

/**
 * `DEBUG` and `WEBHOOK_SECRET_CACHE_SECONDS` are runtime settings the stack sets from context (`debug`,
 * `secretCacheSeconds`): one exported for `npm start` that says otherwise would be left out of the stack, so it is
 * refused, as the variables of {@link NOT_DEPLOYED} are. A value the stack deploys anyway is no problem. `NODE_ENV`
 * is not checked: the stage sets it, and CI runners often export one for their builds.
 */
const runtimeSettingsLeftOut = (problems: Problems, env: NodeJS.ProcessEnv, settings: DeploymentSettings): void => {
  const debug = env.DEBUG ?? '';
  const shellDebug = DEBUG_TRUE.test(debug) ? true : DEBUG_FALSE.test(debug) ? false : undefined;
  if (shellDebug !== undefined && shellDebug !== settings.debug)
    problems.add(
      'DEBUG',
      `is ${debug}, but cdk deploy does not read it from the environment, so the stack would be deployed with debug ${settings.debug}: give -c debug=${shellDebug}, or unset DEBUG`,
    );
  const cache = env.WEBHOOK_SECRET_CACHE_SECONDS?.trim() ?? '';
  if (cache !== '' && cache !== String(settings.secretCacheSeconds))
    problems.add(
      'WEBHOOK_SECRET_CACHE_SECONDS',
      `is ${JSON.stringify(cache)}, but cdk deploy does not read it from the environment, so the functions would cache secrets for ${settings.secretCacheSeconds} s: give -c secretCacheSeconds=…, or unset WEBHOOK_SECRET_CACHE_SECONDS`,
    );
};

/** What the functions make of a reader variable's text (`600/1m` is `600/60s`); `undefined` when they would refuse it. */
const readerValue = (variable: string, text: string | undefined): string | undefined => {
  try {
    return JSON.stringify(parseReaderSettings(text === undefined ? {} : { [variable]: text }));
  } catch {
    return undefined;
  }
};

/**
 * The deliveries API's variables (`HOOKWARDEN_READ_BUDGET`, ...), exported for `npm start`, are refused as `DEBUG` is
 * ({@link runtimeSettingsLeftOut}) when the stack would deploy something else: the stack sets them from context
 * (`readBudget`, ...), never from the deployer's environment. One that says what the functions would use anyway (the
 * same rate written otherwise, or the default with the context key unset) is no problem, nor any on a stack without
 * the deliveries API (`frontDoor=http-api`).
 */
const readerSettingsLeftOut = (problems: Problems, env: NodeJS.ProcessEnv, settings: DeploymentSettings): void => {
  // An HTTP API stack has no reader functions: nothing of these would be deployed either way.
  if (settings.frontDoor === 'http-api') return;
  const deployed = deployedReaderEnvironment(settings.readerSettings ?? {}, (key) => key).environment;
  for (const [key, variable] of Object.entries(READER_VARIABLES)) {
    const shell = env[variable]?.trim() ?? '';
    if (shell === '') continue;
    const shellValue = readerValue(variable, shell);
    if (shellValue !== undefined && shellValue === readerValue(variable, deployed[variable])) continue;
    problems.add(
      variable,
      `is ${JSON.stringify(shell)}, but cdk deploy does not read it from the environment, so the functions would run with ` +
        `${deployed[variable] === undefined ? 'their default' : JSON.stringify(deployed[variable])}: give -c ${key}=…, or unset ${variable}`,
    );
  }
};
