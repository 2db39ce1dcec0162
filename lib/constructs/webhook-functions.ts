import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration, Stack, Stage } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { type IFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DELIVERIES_TABLE, RATE_LIMITS_KEYS, RATE_LIMITS_TABLE } from '../../core/stores/tables.js';
import { describeConfig, type ConfigDescription, type SourceDescription } from '../../core/config/index.js';
import { Problems } from '../../core/config/rules.js';
import { WEBHOOK_TIMEOUT_SECONDS } from '../../core/deadline.js';
import { ConfigError } from '../../core/errors.js';
import { metricsEnvironment, metricsIdentity, type MetricsIdentity } from '../../core/telemetry.js';
import { bundledFunction, FUNCTION_RUNTIME, functionBundling, ownRoleAndLogs, requireLocalEsbuild } from './function-defaults.js';
import { bundlingRoot, functionEntry, ROOT } from './paths.js';
import { booleanProp, durationSecondsProp, wholeNumberProp } from './prop-checks.js';
import { grantSecretKey, secretPropsProblems } from './source-secrets.js';

/** One POSIX shell word (local bundling runs the hooks in bash). */
const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** What the webhook function may do on the deliveries table: exactly the delivery store's calls. */
export const WEBHOOK_DELIVERIES_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/**
 * Where the configuration document sits in each bundle, relative to the task
 * root (Lambda's working directory): the functions find it through
 * `HOOKWARDEN_CONFIG`, so the environment stays the same size for any number
 * of sources (Lambda allows 4 KB of environment in all).
 */
export const BUNDLED_CONFIG_FILE = 'hookwarden.config.json';

/** Lambda's limit on all of a function's environment variables together (names and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * The description the functions load from {@link BUNDLED_CONFIG_FILE} with the
 * same parser (core/config): the validated description as deployed, each
 * source's secret named by `secretArn` (the secret's name or complete ARN,
 * either is a valid `SecretId`) and no `secretEnv` (the functions read no
 * secret from their environment). The parser reads it back unchanged.
 */
export const functionConfigDocument = (
  sources: readonly SourceDescription[],
  secretArnOf: (source: string) => string | undefined,
  corsOrigins: readonly string[],
  trustedProxies: readonly string[],
  acceptRisks: readonly string[] = [],
): ConfigDescription => ({
  sources: sources.map(({ secretEnv: _local, secretArn: _declared, ...source }) => {
    const secretArn = secretArnOf(source.name);
    return { ...source, ...(secretArn ? { secretArn } : {}) };
  }),
  corsOrigins,
  trustedProxies,
  // The functions refuse the same dangerous values unless acknowledged in the same words.
  acceptRisks,
});

/** Hookwarden's own webhook handler (the default of {@link WebhookFunctionsProps.webhookHandler}). */
export const HOOKWARDEN_WEBHOOK_ENTRY = functionEntry('functions/webhook/handler');

/**
 * What {@link WebhookFunctions} gives a webhook function it does not build
 * itself: the props of Hookwarden's own (role, log group, environment with the
 * tables and `HOOKWARDEN_CONFIG`, runtime, bundling that ships the
 * configuration file), and where that file is.
 */
export interface WebhookFunctionDefaults extends NodejsFunctionProps {
  /** The function's own role: the grants (tables, secrets) and the secret-read audit are on it. */
  readonly role: Role;
  /** The function's log group: the saved queries read it. */
  readonly logGroup: LogGroup;
  readonly environment: Record<string, string>;
  /**
   * The validated configuration the function loads at cold start; a function
   * bundled otherwise than by these props must ship it as {@link BUNDLED_CONFIG_FILE}
   * in its task root.
   */
  readonly configFile: string;
}

/**
 * The webhook function's code: a handler file (bundled by `NodejsFunction`
 * exactly like Hookwarden's own), or a factory that builds the function from
 * {@link WebhookFunctionDefaults} (it must use the given role).
 *
 * @example { entry: 'src/webhook.ts' }
 * @example { factory: (scope, id, defaults) => new NodejsFunction(scope, id, { ...defaults, entry: 'src/webhook.ts', memorySize: 512 }) }
 */
export type WebhookHandler =
  | {
      /** The handler file (TypeScript or JavaScript), e.g. one that exports `withHookwarden(yourHandler)`. */
      readonly entry: string;
      /** The exported name. @default 'handler' */
      readonly handler?: string;
      /** For esbuild: the root of the consumer's project. @default - Hookwarden's repository */
      readonly projectRoot?: string;
      /** @default - `package-lock.json` in `projectRoot` */
      readonly depsLockFilePath?: string;
    }
  | { readonly factory: (scope: Construct, id: string, defaults: WebhookFunctionDefaults) => IFunction };

/** Props of {@link WebhookFunctions}. */
export interface WebhookFunctionsProps {
  /** The sources, written into the configuration file each bundle ships ({@link BUNDLED_CONFIG_FILE}). */
  readonly sources: readonly SourceDescription[];
  /** Each source's secret by source name: the webhook function may read it. */
  readonly secrets: ReadonlyMap<string, ISecret>;
  /**
   * What the functions pass as `SecretId`, by source name: plain strings (a
   * name or a complete ARN), since the bundled file cannot hold deploy-time values.
   */
  readonly secretIds: ReadonlyMap<string, string>;
  /** The webhook function may get, put, update and delete items; the health function may only describe it. */
  readonly deliveries: ITableV2;
  /** The webhook function may get and update items (counters, blocklist, source switches). */
  readonly rateLimits: ITableV2;
  /** Exact origins allowed by CORS. @default [] (none) */
  readonly corsOrigins?: readonly string[];
  /** Peers whose `X-Forwarded-For` is believed. @default [] (none) */
  readonly trustedProxies?: readonly string[];
  /** Dangerous values acknowledged in the config file (`acceptRisks`). @default [] */
  readonly acceptRisks?: readonly string[];
  /**
   * `NODE_ENV=production` (and log groups kept on stack deletion) or `development`.
   * @default true
   */
  readonly production?: boolean;
  /** `DEBUG=true`: error details in answers. Never in production. @default false */
  readonly debug?: boolean;
  /** How long the function caches a source's secret document. @default Duration.minutes(5) */
  readonly secretCache?: Duration;
  /** Where the functions report metrics; the alarms read the same. @default metricsIdentity(stack name) */
  readonly metrics?: MetricsIdentity;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * Concurrent executions reserved for the webhook function, and its most: a flood of slow requests cannot take the
   * account's whole pool (and throttle every other function there); past it, invocations are throttled. Given to a
   * {@link WebhookHandler} factory in its defaults. The health function has none.
   * @default - no reservation
   */
  readonly reservedConcurrency?: number;
  /**
   * Both functions' timeout. Hookwarden's webhook requests answer 503 by a deadline derived from the default
   * (core/deadline.ts), sooner when the function has less time left: a shorter timeout is safe; a longer one only
   * leaves time unused.
   * @default Duration.seconds(WEBHOOK_TIMEOUT_SECONDS) (10 s)
   */
  readonly timeout?: Duration;
  /**
   * The webhook function's code: your own handler gets the same environment,
   * tables, secrets, grants, and (in {@link HookwardenStack}) API routes, WAF and alarms.
   * @default { entry: HOOKWARDEN_WEBHOOK_ENTRY } (Hookwarden's own handler)
   */
  readonly webhookHandler?: WebhookHandler;
}

/**
 * The webhook and health functions: Node.js 24 on arm64, bundled by the local
 * esbuild as minified ESM with source maps, each with its own role and log
 * group, granted only what it uses.
 */
export class WebhookFunctions extends Construct {
  /** `POST /webhooks/{source}` and its CORS preflight (functions/webhook/handler.ts, or {@link WebhookFunctionsProps.webhookHandler}). */
  public readonly webhook: IFunction;
  /** `GET /health`, `GET /health/ready` (functions/health/handler.ts). */
  public readonly health: IFunction;
  /** The webhook function's own role. */
  public readonly webhookRole: Role;
  /** The health function's own role. */
  public readonly healthRole: Role;
  /** The webhook function's log group (explicit, with retention). */
  public readonly webhookLogs: LogGroup;
  /** The health function's log group. */
  public readonly healthLogs: LogGroup;
  /** The configuration document both bundles ship as {@link BUNDLED_CONFIG_FILE}. */
  public readonly configDocument: ConfigDescription;

  constructor(scope: Construct, id: string, props: WebhookFunctionsProps) {
    super(scope, id);
    const production = props.production ?? true;
    const debug = props.debug ?? false;
    const metrics = props.metrics ?? metricsIdentity(Stack.of(this).stackName);
    // A secret value among them must not reach the bundle: refused with every other problem, before anything is written.
    const secretProblems = secretPropsProblems(props.secrets, props.secretIds);
    // Nothing below can run on secrets or secretIds that are not Maps.
    if (!(props.secrets instanceof Map) || !(props.secretIds instanceof Map)) throw new ConfigError(secretProblems);
    for (const [name, secretId] of props.secretIds) {
      if (Stack.of(this).resolve(secretId) !== secretId)
        throw new Error(`the secret id of source "${name}" must be known at synth (a name or a complete ARN), not a deploy-time token`);
    }
    this.configDocument = functionConfigDocument(
      props.sources,
      (name) => props.secretIds.get(name),
      props.corsOrigins ?? [],
      props.trustedProxies ?? [],
      props.acceptRisks ?? [],
    );
    // The functions read this document with the one parser at every cold start: what they would refuse (a 5xx on every
    // delivery after a deploy that succeeded) is refused here, at synth, every problem at once.
    // So is a number prop they, Lambda or CloudFormation would refuse (a secret cache of 0, a reservation of 0 that
    // throttles every delivery, NaN from JavaScript).
    const problems = new Problems();
    problems.items.push(...secretProblems);
    problems.items.push(...describeConfig({ HOOKWARDEN_CONFIG_JSON: JSON.stringify(this.configDocument) }).problems);
    for (const source of this.configDocument.sources)
      if (!source.secretArn) problems.add(`source "${source.name}"`, 'has no secret id (secretIds has no entry for it)');
    booleanProp(problems, 'production', props.production);
    booleanProp(problems, 'debug', props.debug);
    wholeNumberProp(problems, 'memorySize', props.memorySize, 128, 10_240);
    wholeNumberProp(problems, 'reservedConcurrency', props.reservedConcurrency, 1, 100_000);
    durationSecondsProp(problems, 'timeout', props.timeout, 1, 900);
    // The functions' own range for WEBHOOK_SECRET_CACHE_SECONDS (secretCacheSecondsOf): outside it, every cold start fails.
    durationSecondsProp(problems, 'secretCache', props.secretCache, 1, 86_400);
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    // Written beside the cloud assembly and copied into each bundle after esbuild; the asset hash covers it.
    const configDir = join(Stage.of(this)?.outdir ?? ROOT, 'hookwarden-config', this.node.addr);
    mkdirSync(configDir, { recursive: true });
    const configPath = join(configDir, BUNDLED_CONFIG_FILE);
    writeFileSync(configPath, `${JSON.stringify(this.configDocument, null, 2)}\n`);
    const environment: Record<string, string> = {
      HOOKWARDEN_CONFIG: BUNDLED_CONFIG_FILE,
      [DELIVERIES_TABLE.tableNameEnv]: props.deliveries.tableName,
      [RATE_LIMITS_TABLE.tableNameEnv]: props.rateLimits.tableName,
      NODE_ENV: production ? 'production' : 'development',
      DEBUG: debug ? 'true' : 'false',
      WEBHOOK_SECRET_CACHE_SECONDS: String((props.secretCache ?? Duration.minutes(5)).toSeconds()),
      ...metricsEnvironment(metrics),
      NODE_OPTIONS: '--enable-source-maps',
    };
    // The health function is always bundled here, so the stack needs a local esbuild whatever the webhook's code is. Checked
    // before a team's factory runs: its NodejsFunction would otherwise switch to Docker and fail with Docker's error first.
    requireLocalEsbuild(this);
    const make = (name: string, code: WebhookHandler): { fn: IFunction; role: Role; logGroup: LogGroup } => {
      const { role, logGroup } = ownRoleAndLogs(this, name, {
        description: `Hookwarden ${name} function`,
        ...(props.logRetention ? { retention: props.logRetention } : {}),
        production,
      });
      const defaults: WebhookFunctionDefaults = {
        ...FUNCTION_RUNTIME,
        memorySize: props.memorySize ?? 256,
        ...(name === 'Webhook' && props.reservedConcurrency !== undefined
          ? { reservedConcurrentExecutions: props.reservedConcurrency }
          : {}),
        // The webhook request's deadline is derived from this same constant (core/deadline.ts).
        timeout: props.timeout ?? Duration.seconds(WEBHOOK_TIMEOUT_SECONDS),
        role,
        logGroup,
        environment,
        ...bundlingRoot(),
        bundling: functionBundling({
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(configPath)} ${shellQuote(join(outputDir, BUNDLED_CONFIG_FILE))}`,
          ],
        }),
        configFile: configPath,
      };
      if ('factory' in code) {
        const fn = code.factory(this, name, defaults);
        if (fn.role !== role)
          throw new Error(
            `the ${name} function factory must build the function with the role it is given (defaults.role): the grants and the secret-read audit are on that role`,
          );
        return { fn, role, logGroup };
      }
      const { configFile: _configFile, ...functionProps } = defaults;
      const fn = bundledFunction(this, name, {
        ...functionProps,
        entry: resolve(code.entry),
        handler: code.handler ?? 'handler',
        ...(code.projectRoot
          ? { projectRoot: code.projectRoot, depsLockFilePath: code.depsLockFilePath ?? join(code.projectRoot, 'package-lock.json') }
          : {}),
        ...(code.depsLockFilePath ? { depsLockFilePath: code.depsLockFilePath } : {}),
      });
      return { fn, role, logGroup };
    };
    const webhook = make('Webhook', props.webhookHandler ?? { entry: HOOKWARDEN_WEBHOOK_ENTRY });
    const health = make('Health', { entry: functionEntry('functions/health/handler') });
    this.webhook = webhook.fn;
    this.webhookRole = webhook.role;
    this.webhookLogs = webhook.logGroup;
    this.health = health.fn;
    this.healthRole = health.role;
    this.healthLogs = health.logGroup;

    // The delivery store's calls (claim, read, complete, release): no Scan, no batch, no stream.
    // On the table alone: grant() would add its indexes (index/*), where these item actions mean nothing.
    this.webhook.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: [...WEBHOOK_DELIVERIES_ACTIONS], resources: [props.deliveries.tableArn] }),
    );
    // Rate-limit counters (UpdateItem) and the blocklist / source switch item (GetItem): nothing else. The function
    // reads the containment item but may not write it: a compromised function must not lift a block or enable a source.
    this.webhook.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:GetItem'], resources: [props.rateLimits.tableArn] }),
    );
    this.webhook.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['dynamodb:UpdateItem'],
        resources: [props.rateLimits.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_LIMITS_KEYS.counterPrefix}*`] } },
      }),
    );
    for (const secret of props.secrets.values()) secret.grantRead(this.webhook);
    for (const source of props.sources) if (props.secrets.has(source.name)) grantSecretKey(this.webhook, source);
    this.health.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:DescribeTable'], resources: [props.deliveries.tableArn] }),
    );
  }
}
