import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  type CfnStage,
  type HttpRoute,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Problems } from '../../core/config/rules.js';
import { ConfigError } from '../../core/errors.js';
import { acknowledge } from '../nag.js';
import { booleanProp, wholeNumberProp } from './prop-checks.js';

/** Props of {@link WebhookHttpApi}: the same routes, handlers and limits as {@link WebhookApiProps}. */
export interface WebhookHttpApiProps {
  /** Serves `POST /webhooks/{source}` and its `OPTIONS` preflight (exact-origin CORS in the function). */
  readonly webhookFunction: IFunction;
  /** Serves `GET /health` and `GET /health/ready`. */
  readonly healthFunction: IFunction;
  /** Shown in the console (its metrics go by its id). @default - the stack's name */
  readonly apiName?: string;
  /** Steady requests per second across the stage. @default 100 (as the REST stage) */
  readonly throttlingRateLimit?: number;
  /** @default 200 (as the REST stage) */
  readonly throttlingBurstLimit?: number;
  /** Steady requests per second on `GET /health/ready` (DynamoDB `DescribeTable` has a low quota). @default 10 */
  readonly readinessRateLimit?: number;
  /** @default RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: RetentionDays;
  /** Production keeps the access logs when the stack is deleted (RETAIN). @default false */
  readonly production?: boolean;
}

/**
 * The handlers take REST proxy events (`APIGatewayProxyEvent`): payload format
 * 1.0 gives them the same shape (`httpMethod`, `path`, `pathParameters`,
 * `multiValueHeaders`, `isBase64Encoded`, `requestContext.identity.sourceIp`).
 */
export const HTTP_API_PAYLOAD_FORMAT = PayloadFormatVersion.VERSION_1_0;

/** The readiness route's key, as the stage's route settings name it. */
const READY_ROUTE = 'GET /health/ready';

/**
 * One JSON line per request, from HTTP API context variables (the REST
 * format's `$context.identity.caller`/`user` do not exist here).
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    integrationError: '$context.integrationErrorMessage',
  }),
);

const PUBLIC_BY_DESIGN =
  'Webhook providers cannot present AWS, JWT or Lambda-authorizer credentials; an authorizer never sees the body, so authenticity is proven in the handler by the HMAC signature over the raw body (and the IP allowlist, stage throttling and app rate limits).';

const PREFLIGHT_IS_PUBLIC =
  'A CORS preflight (OPTIONS) never carries credentials (Fetch standard); the function answers it with exact-origin matching and no data.';

const HEALTH_IS_PUBLIC =
  'Health checks are called by load balancers, uptime monitors and deploy scripts that hold no credentials; they answer a fixed status (no data), behind stage throttling.';

/**
 * The cheaper front door (context `frontDoor=http-api`): an API Gateway HTTP
 * API with the same routes and functions as {@link WebhookApi} — `POST` and
 * `OPTIONS /webhooks/{source}`, `GET /health`, `GET /health/ready`, nothing
 * else — on the `$default` stage (so `path` carries no stage prefix), with the
 * same throttling and JSON access logs. It cannot carry a WAF.
 */
export class WebhookHttpApi extends Construct {
  /** The HTTP API. */
  public readonly api: HttpApi;
  /** The `$default` stage: throttled, access-logged, auto-deployed. */
  public readonly stage: HttpStage;
  /** JSON access logs of the stage. */
  public readonly accessLogs: LogGroup;
  /** POST and OPTIONS `/webhooks/{source}`, GET `/health`, GET `/health/ready`. */
  public readonly routes: readonly HttpRoute[];

  constructor(scope: Construct, id: string, props: WebhookHttpApiProps) {
    super(scope, id);
    const problems = new Problems();
    // Whole requests per second, at least one: 0 throttles every request, and CloudFormation refuses NaN or a negative.
    wholeNumberProp(problems, 'throttlingRateLimit', props.throttlingRateLimit, 1, 1_000_000);
    wholeNumberProp(problems, 'throttlingBurstLimit', props.throttlingBurstLimit, 1, 1_000_000);
    wholeNumberProp(problems, 'readinessRateLimit', props.readinessRateLimit, 1, 1_000_000);
    booleanProp(problems, 'production', props.production);
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // No CORS configuration: API Gateway would answer preflights itself with its own origin rules;
    // without it the OPTIONS route reaches the function, which matches origins exactly.
    this.api = new HttpApi(this, 'Api', {
      apiName: props.apiName ?? Stack.of(this).stackName,
      description: 'Hookwarden: secure front door for webhooks (HTTP API)',
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit ?? 100, burstLimit: props.throttlingBurstLimit ?? 200 },
      accessLogSettings: { destination: new LogGroupLogDestination(this.accessLogs), format: ACCESS_LOG_FORMAT },
    });
    const readiness = props.readinessRateLimit ?? 10;
    // RouteSettings is a JSON map in CloudFormation: CDK passes it as written, so the keys are CloudFormation's own.
    (this.stage.node.defaultChild as CfnStage).routeSettings = {
      [READY_ROUTE]: { ThrottlingRateLimit: readiness, ThrottlingBurstLimit: 2 * readiness },
    };

    const webhook = new HttpLambdaIntegration('Webhook', props.webhookFunction, { payloadFormatVersion: HTTP_API_PAYLOAD_FORMAT });
    const health = new HttpLambdaIntegration('Health', props.healthFunction, { payloadFormatVersion: HTTP_API_PAYLOAD_FORMAT });
    const [post, preflight] = this.api.addRoutes({
      path: '/webhooks/{source}',
      methods: [HttpMethod.POST, HttpMethod.OPTIONS],
      integration: webhook,
    });
    const [live] = this.api.addRoutes({ path: '/health', methods: [HttpMethod.GET], integration: health });
    const [ready] = this.api.addRoutes({ path: '/health/ready', methods: [HttpMethod.GET], integration: health });
    this.routes = [post, preflight, live, ready].filter((route): route is HttpRoute => route !== undefined);
    // The readiness route's settings name its key: the route must exist before the stage is updated.
    this.stage.node.addDependency(...this.routes);
    // One acknowledgement per route, with its reason (AwsSolutions-COG4 applies to REST methods only).
    if (post) acknowledge(post, 'AwsSolutions-APIG4', PUBLIC_BY_DESIGN);
    if (preflight) acknowledge(preflight, 'AwsSolutions-APIG4', PREFLIGHT_IS_PUBLIC);
    for (const route of [live, ready]) if (route) acknowledge(route, 'AwsSolutions-APIG4', HEALTH_IS_PUBLIC);
  }

  /** Base URL of the `$default` stage, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}
