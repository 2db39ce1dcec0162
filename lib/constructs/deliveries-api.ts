import { Duration, Stack } from 'aws-cdk-lib';
import { LambdaIntegration, ResponseTransferMode, type Method, type RequestValidator, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { origins, Problems } from '../../core/config/rules.js';
import { ConfigError } from '../../core/errors.js';
import { READER_TIMEOUT_SECONDS } from '../../core/reader/deadline.js';
import { deployedReaderEnvironment, type DeployedReaderSettings } from '../../core/reader/settings.js';
import {
  DELIVERIES_BY_TIME,
  DELIVERIES_TABLE,
  RATE_LIMITS_KEYS,
  RATE_LIMITS_TABLE,
  READER_LIMIT_KEYS,
  TOKENS_TABLE,
} from '../../core/stores/tables.js';
import { metricsEnvironment, metricsIdentity, type MetricsIdentity } from '../../core/telemetry.js';
import { acknowledge } from '../nag.js';
import { ownFunction } from './function-defaults.js';
import { booleanProp } from './prop-checks.js';
import { METHOD_NOT_ALLOWED_IS_PUBLIC, methodNotAllowed } from './webhook-api.js';

/** How long the events function may run: Lambda's maximum; streams end by themselves before (HOOKWARDEN_STREAM_MAX_SECONDS, 840). */
export const EVENTS_TIMEOUT = Duration.minutes(15);

/** Props of {@link DeliveriesApi}. */
export interface DeliveriesApiProps {
  /** The REST API the three routes are added to. */
  readonly api: RestApi;
  /** Validates the path parameters. */
  readonly validator: RequestValidator;
  /** Read only: GetItem on the table, Query on its byTime index. */
  readonly deliveries: ITableV2;
  /** GetItem, and UpdateItem of `lastUsedAt` only. */
  readonly tokens: ITableV2;
  /** UpdateItem of the per-token counters. */
  readonly rateLimits: ITableV2;
  /** Exact origins allowed by CORS and by the origin guard. @default [] (no browser origin) */
  readonly corsOrigins?: readonly string[];
  /** `NODE_ENV=production` and log groups kept on stack deletion. @default true */
  readonly production?: boolean;
  /** `DEBUG=true`: error details in answers. Never in production. @default false */
  readonly debug?: boolean;
  /** Where the functions report metrics. @default metricsIdentity(stack name) */
  readonly metrics?: MetricsIdentity;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /**
   * The per-token limits, read budget and stream settings, passed to both functions as the variables they read
   * (`HOOKWARDEN_READ_BUDGET`, ...), checked at synth by the parser they run at cold start: every problem at once.
   * @default {} (each unset one is left out, and the functions use their defaults: see core/reader/settings.ts)
   * @example { readBudget: '60000/60s', streamRateLimit: { limit: 10, windowSeconds: 840 } }
   */
  readonly readerSettings?: DeployedReaderSettings;
}

const BEARER_IN_FUNCTION =
  'The deliveries API authenticates a bearer read token in the function (SHA-256 lookup in the tokens table, scope, expiry, revocation within 30 s, a per-token rate limit), like any token API; a Cognito or IAM authorizer would not know these tokens, and a Lambda authorizer would add an invocation per request (and per stream) for the same check.';
const PREFLIGHT =
  'A CORS preflight (OPTIONS) never carries credentials (Fetch standard); the function answers it with exact-origin matching, GET and the Authorization and Last-Event-ID headers only, and no data.';

/**
 * The deliveries API on AWS: `GET /deliveries`, `GET /deliveries/{source}/{id}`
 * (the reader function) and `GET /events` (the events function, streamed:
 * `ResponseTransferMode.STREAM`, Lambda response streaming, up to 15 minutes),
 * their CORS preflights (the reader function), each function with its own
 * role and log group and read-only grants: nothing here can write a delivery.
 */
export class DeliveriesApi extends Construct {
  /** `GET /deliveries`, `GET /deliveries/{source}/{id}`, and the preflights (functions/reader/handler.ts). */
  public readonly reader: NodejsFunction;
  /** `GET /events` (functions/events/handler.ts), streamed. */
  public readonly events: NodejsFunction;
  public readonly readerRole: Role;
  public readonly eventsRole: Role;
  public readonly readerLogs: LogGroup;
  public readonly eventsLogs: LogGroup;
  /** GET and OPTIONS of the three routes. */
  public readonly methods: readonly Method[];

  constructor(scope: Construct, id: string, props: DeliveriesApiProps) {
    super(scope, id);
    const production = props.production ?? true;
    const metrics = props.metrics ?? metricsIdentity(Stack.of(this).stackName);
    // What the functions would refuse at cold start (a 500 on every read after a deploy that succeeded) is refused here,
    // every problem at once: their origins (CORS_ORIGINS, read by the configuration's parser) and their settings.
    const problems = new Problems();
    const corsOrigins = props.corsOrigins ?? [];
    if (!Array.isArray(corsOrigins) || corsOrigins.some((origin) => typeof origin !== 'string'))
      problems.add('corsOrigins', 'must be an array of exact origins like ["https://app.example.com"]');
    else origins(problems, 'corsOrigins', corsOrigins);
    booleanProp(problems, 'production', props.production);
    booleanProp(problems, 'debug', props.debug);
    const tuning = deployedReaderEnvironment(props.readerSettings ?? {}, (setting) => `readerSettings.${setting}`);
    problems.items.push(...tuning.problems);
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    const environment: Record<string, string> = {
      [DELIVERIES_TABLE.tableNameEnv]: props.deliveries.tableName,
      [RATE_LIMITS_TABLE.tableNameEnv]: props.rateLimits.tableName,
      [TOKENS_TABLE.tableNameEnv]: props.tokens.tableName,
      CORS_ORIGINS: corsOrigins.join(','),
      NODE_ENV: production ? 'production' : 'development',
      DEBUG: props.debug ? 'true' : 'false',
      ...metricsEnvironment(metrics),
      ...tuning.environment,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const make = (name: string, entry: string, timeout: Duration) =>
      ownFunction(this, name, {
        description: `Hookwarden ${name} function (deliveries API, read only)`,
        ...(props.logRetention ? { retention: props.logRetention } : {}),
        production,
        entry,
        timeout,
        environment,
      });
    // The reader's requests answer by a deadline derived from this same constant (core/reader/deadline.ts).
    const reader = make('Reader', 'functions/reader/handler', Duration.seconds(READER_TIMEOUT_SECONDS));
    const events = make('Events', 'functions/events/handler', EVENTS_TIMEOUT);
    this.reader = reader.fn;
    this.readerRole = reader.role;
    this.readerLogs = reader.logGroup;
    this.events = events.fn;
    this.eventsRole = events.role;
    this.eventsLogs = events.logGroup;

    const indexArn = `${props.deliveries.tableArn}/index/${DELIVERIES_BY_TIME.name}`;
    // Exact resources, no wildcard: GetItem on the table (one delivery), Query on the one index (list, stream).
    reader.role.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:GetItem'], resources: [props.deliveries.tableArn] }),
    );
    for (const role of [reader.role, events.role]) {
      role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:Query'], resources: [indexArn] }));
      role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:GetItem'], resources: [props.tokens.tableArn] }));
      // The token's last use, and nothing else of it.
      role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:UpdateItem'],
          resources: [props.tokens.tableArn],
          conditions: {
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'lastUsedAt'] },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
          },
        }),
      );
      // The per-token sliding-window counters, and no other item of the table (not the blocklist, not a webhook source's counter).
      role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:UpdateItem'],
          resources: [props.rateLimits.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': Object.values(READER_LIMIT_KEYS).map((key) => `${RATE_LIMITS_KEYS.counterPrefix}${key}*`),
            },
          },
        }),
      );
    }

    const readerIntegration = new LambdaIntegration(reader.fn, { allowTestInvoke: false });
    const eventsIntegration = new LambdaIntegration(events.fn, {
      allowTestInvoke: false,
      responseTransferMode: ResponseTransferMode.STREAM,
      // With streaming, the integration may run up to 15 minutes (the stream's own limit).
      timeout: EVENTS_TIMEOUT,
    });
    const list = props.api.root.addResource('deliveries');
    const one = list.addResource('{source}').addResource('{id}');
    const eventsResource = props.api.root.addResource('events');
    const pathParameters = { 'method.request.path.source': true, 'method.request.path.id': true };
    const gets = [
      list.addMethod('GET', readerIntegration, { requestValidator: props.validator }),
      one.addMethod('GET', readerIntegration, { requestValidator: props.validator, requestParameters: pathParameters }),
      eventsResource.addMethod('GET', eventsIntegration, { requestValidator: props.validator }),
    ];
    const preflights = [
      list.addMethod('OPTIONS', readerIntegration, { requestValidator: props.validator }),
      one.addMethod('OPTIONS', readerIntegration, { requestValidator: props.validator, requestParameters: pathParameters }),
      eventsResource.addMethod('OPTIONS', readerIntegration, { requestValidator: props.validator }),
    ];
    this.methods = [...gets, ...preflights];
    for (const method of gets) {
      acknowledge(method, 'AwsSolutions-APIG4', BEARER_IN_FUNCTION);
      acknowledge(method, 'AwsSolutions-COG4', BEARER_IN_FUNCTION);
    }
    for (const method of preflights) acknowledge(method, 'AwsSolutions-APIG4', PREFLIGHT);
    // Any other method: 405 with Allow, as the functions answer it, without invoking them.
    for (const resource of [list, one, eventsResource]) {
      const method = methodNotAllowed(resource, ['GET', 'OPTIONS'], 'Only GET is accepted here.');
      acknowledge(method, 'AwsSolutions-APIG4', METHOD_NOT_ALLOWED_IS_PUBLIC);
      acknowledge(method, 'AwsSolutions-COG4', METHOD_NOT_ALLOWED_IS_PUBLIC);
    }
  }
}
