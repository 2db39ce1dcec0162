import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DELIVERIES_TABLE, RATE_LIMITS_TABLE } from '../../functions/shared/stores/tables';
import type { DeployedSource } from '../settings';

const ROOT = join(import.meta.dirname, '..', '..');

/** Props of {@link WebhookFunctions}. */
export interface WebhookFunctionsProps {
  readonly sources: readonly DeployedSource[];
  readonly secrets: ReadonlyMap<string, ISecret>;
  readonly deliveries: ITableV2;
  readonly rateLimits: ITableV2;
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  /** `NODE_ENV=production` and `DEBUG=false` unless debug. @default true */
  readonly production?: boolean;
  /** How long the function caches a source's secrets. @default Duration.minutes(5) */
  readonly secretCache?: Duration;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
}

/**
 * The webhook and health functions: Node.js 24 on arm64, bundled by the local
 * esbuild as minified ESM with source maps, each with its own role and log
 * group, granted only what it uses.
 */
export class WebhookFunctions extends Construct {
  public readonly webhook: NodejsFunction;
  public readonly health: NodejsFunction;
  public readonly webhookLogs: LogGroup;
  public readonly healthLogs: LogGroup;

  constructor(scope: Construct, id: string, props: WebhookFunctionsProps) {
    super(scope, id);
    const production = props.production ?? true;
    const document = {
      sources: props.sources.map((s) => ({
        name: s.name,
        scheme: s.scheme,
        secretArn: props.secrets.get(s.name)?.secretArn,
        allowedIps: s.allowedIps,
        maxAgeSeconds: s.maxAgeSeconds,
        maxBodyBytes: s.maxBodyBytes,
        retentionSeconds: s.retentionSeconds,
        ...(s.rateLimit ? { rateLimit: s.rateLimit } : {}),
        ...(s.clientRateLimit ? { clientRateLimit: s.clientRateLimit } : {}),
        ...(s.hmac ? { hmac: s.hmac } : {}),
      })),
      corsOrigins: props.corsOrigins,
      trustedProxies: props.trustedProxies,
    };
    const environment: Record<string, string> = {
      HOOKWARDEN_CONFIG_JSON: Stack.of(this).toJsonString(document),
      [DELIVERIES_TABLE.tableNameEnv]: props.deliveries.tableName,
      [RATE_LIMITS_TABLE.tableNameEnv]: props.rateLimits.tableName,
      NODE_ENV: production ? 'production' : 'development',
      DEBUG: production ? 'false' : 'true',
      WEBHOOK_SECRET_CACHE_SECONDS: String((props.secretCache ?? Duration.minutes(5)).toSeconds()),
      POWERTOOLS_SERVICE_NAME: 'hookwarden',
      POWERTOOLS_METRICS_NAMESPACE: 'Hookwarden',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const logGroups: Record<string, LogGroup> = {};
    const make = (name: string, entry: string): NodejsFunction => {
      const role = new Role(this, `${name}Role`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `Hookwarden ${name} function`,
      });
      const logGroup = new LogGroup(this, `${name}Logs`, {
        retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
        removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      logGroup.grantWrite(role);
      logGroups[name] = logGroup;
      return new NodejsFunction(this, name, {
        entry: join(ROOT, entry),
        handler: 'handler',
        runtime: Runtime.NODEJS_24_X,
        architecture: Architecture.ARM_64,
        memorySize: props.memorySize ?? 256,
        timeout: props.timeout ?? Duration.seconds(10),
        role,
        logGroup,
        environment,
        projectRoot: ROOT,
        depsLockFilePath: join(ROOT, 'package-lock.json'),
        bundling: {
          format: OutputFormat.ESM,
          minify: true,
          sourceMap: true,
          target: 'node24',
          mainFields: ['module', 'main'],
          // Some CommonJS dependencies call require(); give the ESM bundle one.
          banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
          forceDockerBundling: false,
        },
      });
    };
    this.webhook = make('Webhook', 'functions/webhook/handler.ts');
    this.health = make('Health', 'functions/health/handler.ts');
    this.webhookLogs = logGroups.Webhook as LogGroup;
    this.healthLogs = logGroups.Health as LogGroup;

    props.deliveries.grantReadWriteData(this.webhook);
    // Rate-limit counters (UpdateItem) and the blocklist / source switch item (GetItem): nothing else.
    props.rateLimits.grant(this.webhook, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    for (const secret of props.secrets.values()) secret.grantRead(this.webhook);
    this.health.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:DescribeTable'], resources: [props.deliveries.tableArn] }),
    );
  }
}
