import { DEFAULT_SOURCE, DEFAULTS, type ConfigDocument } from '../core/config/index.js';
import { acceptedRisks, proxyRanges, type Risk } from '../core/config/risks.js';
import { list, positiveInt, Problems, schemeFor, stringArray } from '../core/config/rules.js';
import { hmacFromEnvironment, readDocument, sourcesFromDocument } from '../core/config/sources.js';
import type { HmacSchemeOptions } from '../core/schemes/types.js';
import { DEFAULT_ROTATION, type RotationConfig } from '../core/config/rotation.js';

/** One source as the stack deploys it (validated by the same rules as the local server). */
export interface DeployedSource {
  /** Served at `/webhooks/{name}`. */
  readonly name: string;
  /** Signature scheme preset name. */
  readonly scheme: string;
  /**
   * An existing Secrets Manager secret (complete ARN) holding the source's key
   * document; the stack then creates none and grants read on this one.
   * @default - a secret is generated for the source
   */
  readonly secretArn?: string;
  /**
   * Whether the stack generates a secret when no `secretArn` is given
   * (`"generateSecret": false` in the config file). A source with neither has
   * no secret: the function would refuse to start, so every stage refuses it.
   * @default true
   */
  readonly generateSecret: boolean;
  /** IPs and CIDRs allowed to deliver; empty allows any. @default [] */
  readonly allowedIps: readonly string[];
  /** Timestamp tolerance, past and future. @default 300 */
  readonly maxAgeSeconds: number;
  /** Largest accepted body. @default 1048576 (1 MiB) */
  readonly maxBodyBytes: number;
  /** How long a stored delivery (and its replay guard) is kept. @default 604800 (7 days) */
  readonly retentionSeconds: number;
  /** As written in the config file, e.g. `600/60s`. @default - no source-wide limit */
  readonly rateLimit?: string;
  /** As written in the config file. @default - no per-client limit */
  readonly clientRateLimit?: string;
  /** Options of the generic `hmac` scheme. @default - none (other schemes) */
  readonly hmac?: HmacSchemeOptions;
  /** When and how the key changes (`rotation` in the config file). @default {"mode":"manual","every":"90d"} */
  readonly rotation?: RotationConfig;
}

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
  /** @default true in prod, false in dev */
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
   * @default 'create'
   */
  readonly apiGatewayCloudWatchRole: 'create' | 'existing';
  /** Where the sources came from (the config file's path, or `environment`). */
  readonly origin: string;
  /** The file's `acceptRisks`, passed on to the functions' configuration. @default [] */
  readonly acceptRisks?: readonly string[];
}

/** What {@link readSettings} found: the settings, and every problem with the inputs. */
export interface SettingsResult {
  readonly settings: DeploymentSettings;
  /** Each problem names its key or variable; empty when the inputs are valid. */
  readonly problems: readonly string[];
}

/** Reads one CDK context value. */
export type ContextReader = (key: string) => unknown;

/** A complete secret ARN, with the 6-character suffix Secrets Manager appends to the name. */
const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
/** Requests per client IP per 5 minutes. */
const WAF_RATE_LIMIT_DEFAULT = 10_000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const contextList = (value: unknown): string[] => (Array.isArray(value) ? value.map((v) => String(v).trim()).filter(Boolean) : list(String(value)));

const contextBool = (problems: Problems, key: string, value: unknown, fallback: boolean): boolean => {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  problems.add(`context ${key}`, `must be true or false, got ${JSON.stringify(value)}`);
  return fallback;
};

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

type RawSource = NonNullable<ConfigDocument['sources']>[number] & { generateSecret?: unknown };

/** The sources of the config file, checked by the local server's own rules (secret values are never read). */
const sourcesFromFile = (problems: Problems, document: ConfigDocument, origin: string, accepted: ReadonlySet<Risk>): DeployedSource[] => {
  // An empty environment: `secretEnv` names a local variable, never read at deploy time.
  const checked = sourcesFromDocument(problems, document, origin, {}, accepted);
  const raws = Array.isArray(document.sources) ? (document.sources as RawSource[]) : [];
  return raws.flatMap((raw, index) => {
    const source = typeof raw?.name === 'string' ? checked.get(raw.name) : undefined;
    if (!source) return [];
    const where = `${origin} sources[${index}]`;
    const secretArn = typeof raw.secretArn === 'string' && raw.secretArn ? raw.secretArn : undefined;
    if (secretArn && !COMPLETE_SECRET_ARN.test(secretArn)) {
      problems.add(`${where}.secretArn`, 'must be the complete secret ARN, with its 6-character suffix (aws secretsmanager describe-secret prints it)');
    }
    return [
      {
        name: source.name,
        scheme: source.schemeName,
        ...(secretArn ? { secretArn } : {}),
        generateSecret: raw.generateSecret !== false,
        allowedIps: source.allowedIps,
        maxAgeSeconds: source.maxAgeSeconds,
        maxBodyBytes: source.maxBodyBytes,
        retentionSeconds: source.retentionSeconds,
        ...(typeof raw.rateLimit === 'string' ? { rateLimit: raw.rateLimit.trim() } : {}),
        ...(typeof raw.clientRateLimit === 'string' ? { clientRateLimit: raw.clientRateLimit.trim() } : {}),
        ...(raw.hmac !== undefined ? { hmac: raw.hmac as HmacSchemeOptions } : {}),
        rotation: source.rotation,
      },
    ];
  });
};

/** Without a config file: one `default` source, scheme from `WEBHOOK_SCHEME` (and `WEBHOOK_HMAC_*` for `hmac`). */
const defaultSource = (problems: Problems, env: NodeJS.ProcessEnv, accepted: ReadonlySet<Risk>): DeployedSource => {
  const name = env.WEBHOOK_SCHEME || DEFAULTS.scheme;
  // The same checks as the functions' (config/hmac.ts): they would refuse at cold start what is deployed here.
  const checked = hmacFromEnvironment(problems, env, name, accepted);
  schemeFor(problems, 'WEBHOOK_SCHEME', name, checked);
  const hmac = checked || undefined;
  return {
    name: DEFAULT_SOURCE,
    scheme: name,
    generateSecret: true,
    allowedIps: [],
    maxAgeSeconds: DEFAULTS.maxAgeSeconds,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    retentionSeconds: DEFAULTS.retentionSeconds,
    ...(hmac ? { hmac: JSON.parse(JSON.stringify(hmac)) as HmacSchemeOptions } : {}),
    rotation: DEFAULT_ROTATION,
  };
};

/**
 * The deployment settings and every problem with them. Sources, CORS origins and
 * trusted proxies come from the same `hookwarden.config.json` the local server
 * reads (or the path in `HOOKWARDEN_CONFIG`), validated by the same rules; with
 * no file, one `default` source from `WEBHOOK_SCHEME`. Context: `stage` (`dev`
 * or `prod`), `alarmEmail`, `corsOrigins` (comma-separated, overrides the file),
 * `wafEnabled` (default true in prod), `wafRateLimit` (per IP per 5 minutes,
 * default 10000), `wafDisabledReason`, `debug`, `secretCacheSeconds`, `cloudTrail`, `tracing`, `apiGatewayCloudWatchRole`.
 *
 * Secrets never come from here: each source gets its own Secrets Manager secret.
 */
export const readSettings = (context: ContextReader, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): SettingsResult => {
  const problems = new Problems();
  const rawStage = context('stage') ?? 'dev';
  if (rawStage !== 'dev' && rawStage !== 'prod') problems.add('context stage', `must be "dev" or "prod", got ${JSON.stringify(rawStage)}`);
  const stage = rawStage === 'prod' ? 'prod' : 'dev';

  // Only the file: an inline HOOKWARDEN_CONFIG_JSON in the deployer's shell is the functions' format, not a deploy input.
  const file = readDocument(problems, env.HOOKWARDEN_CONFIG ? { HOOKWARDEN_CONFIG: env.HOOKWARDEN_CONFIG } : {}, cwd);
  // Acknowledgements come with the sources (the file's, else HOOKWARDEN_ACCEPT_RISKS) and travel on to the functions.
  const accepted = acceptedRisks(problems, file ? {} : { HOOKWARDEN_ACCEPT_RISKS: env.HOOKWARDEN_ACCEPT_RISKS }, file?.document, file?.origin);
  const sources = file ? sourcesFromFile(problems, file.document, file.origin, accepted) : [defaultSource(problems, env, accepted)];
  const where = file?.origin ?? 'config';
  const trustedProxies = proxyRanges(problems, `${where} trustedProxies`, stringArray(problems, `${where} trustedProxies`, file?.document.trustedProxies), accepted);
  const corsContext = context('corsOrigins');
  const corsOrigins = corsContext !== undefined ? contextList(corsContext) : stringArray(problems, `${where} corsOrigins`, file?.document.corsOrigins);

  const alarmEmail = contextString(context('alarmEmail'));
  if (alarmEmail && !EMAIL.test(alarmEmail)) problems.add('context alarmEmail', `"${alarmEmail}" is not an email address`);
  const wafDisabledReason = contextString(context('wafDisabledReason'));
  const rawTrail = context('cloudTrail') ?? (stage === 'prod' ? 'create' : 'existing');
  if (rawTrail !== 'create' && rawTrail !== 'existing' && rawTrail !== 'none') problems.add('context cloudTrail', `must be "create", "existing" or "none", got ${JSON.stringify(rawTrail)}`);
  const rawRole = context('apiGatewayCloudWatchRole') ?? 'create';
  if (rawRole !== 'create' && rawRole !== 'existing') problems.add('context apiGatewayCloudWatchRole', `must be "create" or "existing", got ${JSON.stringify(rawRole)}`);
  const cloudTrail = rawTrail === 'create' || rawTrail === 'none' ? rawTrail : 'existing';
  const settings: DeploymentSettings = {
    stage,
    sources,
    corsOrigins,
    trustedProxies,
    ...(alarmEmail ? { alarmEmail } : {}),
    wafEnabled: contextBool(problems, 'wafEnabled', context('wafEnabled'), stage === 'prod'),
    wafRateLimitPer5Minutes: wafRateLimit(problems, context('wafRateLimit')),
    ...(wafDisabledReason ? { wafDisabledReason } : {}),
    debug: contextBool(problems, 'debug', context('debug'), false),
    secretCacheSeconds: positiveInt(problems, 'context secretCacheSeconds', context('secretCacheSeconds'), DEFAULTS.secretCacheSeconds, 86_400),
    cloudTrail,
    tracing: contextBool(problems, 'tracing', context('tracing'), false),
    apiGatewayCloudWatchRole: rawRole === 'existing' ? 'existing' : 'create',
    origin: file?.origin ?? 'environment',
    acceptRisks: [...accepted],
  };
  return { settings, problems: problems.items };
};
