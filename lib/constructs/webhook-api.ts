import { FeatureFlags, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ContentHandling,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  MockIntegration,
  PassthroughBehavior,
  RequestValidator,
  ResponseType,
  RestApi,
  type IResource,
  type Method,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { APIGATEWAY_DISABLE_CLOUDWATCH_ROLE } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { Problems } from '../../core/config/rules.js';
import { ConfigError } from '../../core/errors.js';
import { SECURITY_HEADERS } from '../../core/middleware/security-headers/index.js';
import { acknowledge } from '../nag.js';
import { booleanProp, wholeNumberProp } from './prop-checks.js';

/** Props of {@link WebhookApi}. */
export interface WebhookApiProps {
  /** Serves `POST /webhooks/{source}` and its `OPTIONS` preflight (exact-origin CORS in the function). */
  readonly webhookFunction: IFunction;
  /** Serves `GET /health` and `GET /health/ready`. */
  readonly healthFunction: IFunction;
  /**
   * API Gateway publishes a REST API's metrics by this name: two stages in one account and region need their own,
   * or each one's 5xx alarm reads the other's API too.
   * @default - the stack's name
   */
  readonly restApiName?: string;
  /** @default 'dev' */
  readonly stageName?: string;
  /** Steady requests per second across the stage. @default 100 */
  readonly throttlingRateLimit?: number;
  /** @default 200 */
  readonly throttlingBurstLimit?: number;
  /**
   * Steady requests per second on `GET /health/ready`, which calls DynamoDB
   * `DescribeTable` (a control-plane API with its own low quota).
   * @default 10
   */
  readonly readinessRateLimit?: number;
  /** @default RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: RetentionDays;
  /**
   * X-Ray tracing of the stage. Off by default: at webhook rates most requests
   * fall in X-Ray's one-per-second sampling reservoir ($5 per million traced).
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Create API Gateway's account-level CloudWatch role, which access and execution logging need. It is one setting per
   * account and region: every stack that creates it overwrites it, and the role and setting are kept (RETAIN) when the
   * stack is deleted, as another stack's API may log through them by then. Pass false when the account has one.
   * @default - CDK's: false when the app sets `@aws-cdk/aws-apigateway:disableCloudWatchRole` (an app that manages the
   * setting once, elsewhere), true otherwise
   */
  readonly cloudWatchRole?: boolean;
  /** Production keeps the access logs when the stack is deleted (RETAIN). @default false */
  readonly production?: boolean;
}

/** Every media type is binary: API Gateway base64-encodes every request body (`isBase64Encoded: true`). */
export const BINARY_MEDIA_TYPES_ALL = '*/*';

/** Why the webhook route has no authorizer: the proof of origin is the signature over the body. */
const PUBLIC_BY_DESIGN =
  'Webhook providers cannot present AWS, Cognito or token credentials; an authorizer never sees the body, so authenticity is proven in the handler by the HMAC signature over the raw body (and the IP allowlist, WAF and throttling in front).';

const HEALTH_IS_PUBLIC =
  'Health checks are called by load balancers, uptime monitors and deploy scripts that hold no credentials; they answer a fixed status (no data), and WAF and stage throttling sit in front.';

const ACCOUNT_LOGGING_ROLE =
  "API Gateway's account-level CloudWatch role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented (and only) way to enable access and execution logging; it grants log writes only.";

/**
 * API Gateway's own answers (a path or method no route has, WAF, stage throttling, a body over 10 MB, its own
 * faults), in the functions' error shape and with their security headers: by default they are
 * `{"message":"Missing Authentication Token"}` (a 403 for a mistyped URL) and the like, with no `nosniff` or HSTS.
 * The body is a template with simple substitution only; `$context.error.messageString` is API Gateway's message as a
 * JSON string. `status` undefined keeps the response type's own status.
 */
export const GATEWAY_ANSWERS: ReadonlyArray<{
  readonly type: ResponseType;
  readonly status?: string;
  readonly code: string;
  /** A JSON string literal, or `$context.error.messageString`. */
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}> = [
  // No authorizer on this API: this type means only that no route has this path and method.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '404', code: 'not_found', message: '"Not found."' },
  { type: ResponseType.WAF_FILTERED, status: '403', code: 'request_blocked', message: '"The request was blocked."' },
  { type: ResponseType.THROTTLED, status: '429', code: 'rate_limited', message: '"Too many requests."', headers: { 'Retry-After': '1' } },
  { type: ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'payload_too_large', message: '"The body exceeds 10 MB."' },
  { type: ResponseType.INTEGRATION_TIMEOUT, status: '504', code: 'gateway_timeout', message: '"The gateway timed out."' },
  // Lambda refused the invocation: above all a throttle (the webhook function's reserved concurrency reached), which a
  // proxy integration turns into a bare 500 that some providers never retry. A 503 with Retry-After is retried.
  {
    type: ResponseType.INTEGRATION_FAILURE,
    status: '503',
    code: 'unavailable',
    message: '"The service is busy; retry later."',
    headers: { 'Retry-After': '1' },
  },
  { type: ResponseType.DEFAULT_4XX, code: 'gateway_refused', message: '$context.error.messageString' },
  { type: ResponseType.DEFAULT_5XX, code: 'gateway_error', message: '"The gateway could not complete the request."' },
];

/** A gateway answer's body template: `{"error":{code,message,requestId}}`, as the functions answer. */
export const gatewayAnswerTemplate = (code: string, message: string): string =>
  `{"error":{"code":"${code}","message":${message},"requestId":"$context.requestId"}}`;

/** The static security headers a gateway-made answer can carry: a quoted value cannot hold a quote, so the CSP ('none') is left out. */
const staticSecurityHeaders = (extra: Readonly<Record<string, string>> = {}): Array<[string, string]> =>
  Object.entries({ ...SECURITY_HEADERS, ...extra }).filter(([, value]) => !value.includes("'"));

/**
 * The request content types API Gateway maps for a {@link methodNotAllowed} answer (a request without one counts as
 * `application/json`). A body of any other type is refused 415 (gateway_refused) rather than passed to the mock, which
 * could not read a status from it.
 */
export const METHOD_NOT_ALLOWED_CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/xml',
  'text/plain',
  'text/xml',
  'multipart/form-data',
] as const;

/**
 * `ANY` on `resource`, answered by API Gateway itself (a mock integration, no function): 405 `method_not_allowed` with
 * `Allow`, in the functions' error shape and with their security headers. The resource's own methods take precedence,
 * so only the others get it; without it API Gateway answered them 404 (no route), unlike the functions and `npm start`.
 */
export const methodNotAllowed = (resource: IResource, allow: readonly string[], only: string): Method => {
  const headers = staticSecurityHeaders({ Allow: allow.join(', '), 'Content-Type': 'application/json' });
  return resource.addMethod(
    'ANY',
    new MockIntegration({
      // Every body is binary (*/*): as text, so that the template applies whatever the bytes.
      contentHandling: ContentHandling.CONVERT_TO_TEXT,
      passthroughBehavior: PassthroughBehavior.NEVER,
      requestTemplates: Object.fromEntries(METHOD_NOT_ALLOWED_CONTENT_TYPES.map((type) => [type, '{"statusCode": 405}'])),
      integrationResponses: [
        {
          statusCode: '405',
          responseParameters: Object.fromEntries(headers.map(([name, value]) => [`method.response.header.${name}`, `'${value}'`])),
          responseTemplates: { 'application/json': gatewayAnswerTemplate('method_not_allowed', JSON.stringify(only)) },
        },
      ],
    }),
    {
      methodResponses: [
        { statusCode: '405', responseParameters: Object.fromEntries(headers.map(([name]) => [`method.response.header.${name}`, true])) },
      ],
    },
  );
};

/** Why a 405 method has no authorizer. */
export const METHOD_NOT_ALLOWED_IS_PUBLIC =
  'Answers 405 method_not_allowed from a mock integration, for the methods the resource does not serve: no function runs and no data is returned, so there is nothing to authorize (WAF and stage throttling still apply).';

/**
 * The regional REST API: `POST /webhooks/{source}` (and its CORS preflight,
 * answered by the webhook function with exact-origin matching), `GET /health`,
 * `GET /health/ready`; nothing else. JSON access logs, execution logs, stage
 * throttling, request validation of the path parameter.
 */
export class WebhookApi extends Construct {
  /** The REST API; its `deploymentStage` is the stage WAF is associated with. */
  public readonly api: RestApi;
  /** JSON access logs of the stage. */
  public readonly accessLogs: LogGroup;
  /** POST and OPTIONS `/webhooks/{source}`, GET `/health`, GET `/health/ready`. */
  public readonly methods: readonly Method[];
  /** Validates path parameters (and any body model): shared by every method. */
  public readonly validator: RequestValidator;
  /** `ANY` on each of those resources: 405 with `Allow` for the methods they do not serve ({@link methodNotAllowed}). */
  public readonly notAllowed: readonly Method[];

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    const problems = new Problems();
    // Whole requests per second, at least one: 0 throttles every request, and CloudFormation refuses NaN or a negative.
    wholeNumberProp(problems, 'throttlingRateLimit', props.throttlingRateLimit, 1, 1_000_000);
    wholeNumberProp(problems, 'throttlingBurstLimit', props.throttlingBurstLimit, 1, 1_000_000);
    wholeNumberProp(problems, 'readinessRateLimit', props.readinessRateLimit, 1, 1_000_000);
    booleanProp(problems, 'production', props.production);
    booleanProp(problems, 'tracing', props.tracing);
    booleanProp(problems, 'cloudWatchRole', props.cloudWatchRole);
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // The app's flag says the account's setting is managed elsewhere, once: a role of ours would take it over. Read as
    // RestApi reads it (any value set counts), as readSettings does.
    const createsRole = props.cloudWatchRole ?? !FeatureFlags.of(this).isEnabled(APIGATEWAY_DISABLE_CLOUDWATCH_ROLE);
    this.api = new RestApi(this, 'Api', {
      restApiName: props.restApiName ?? Stack.of(this).stackName,
      description: 'Hookwarden: secure front door for webhooks',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // Without binary media types API Gateway hands non-UTF-8 bodies to Lambda as mangled text, and a
      // signature over the raw bytes fails; with */* every body arrives base64 and byte-exact.
      binaryMediaTypes: [BINARY_MEDIA_TYPES_ALL],
      cloudWatchRole: createsRole,
      // CDK's default today, stated: another stack's API may log through this role once its stack set the account's setting.
      ...(createsRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: props.stageName ?? 'dev',
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing ?? false,
        throttlingRateLimit: props.throttlingRateLimit ?? 100,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
        methodOptions: {
          '/health/ready/GET': {
            throttlingRateLimit: props.readinessRateLimit ?? 10,
            throttlingBurstLimit: 2 * (props.readinessRateLimit ?? 10),
          },
        },
      },
    });
    // Body validation has no model to apply (bodies are opaque signed bytes: JSON, forms, anything);
    // it is on so any model added later is enforced. Parameters are validated (the {source} path).
    const validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    this.validator = validator;
    // No console test-invoke permission: the functions are invocable from the deployed stage only.
    const webhook = new LambdaIntegration(props.webhookFunction, { allowTestInvoke: false });
    const health = new LambdaIntegration(props.healthFunction, { allowTestInvoke: false });
    const source = this.api.root.addResource('webhooks').addResource('{source}');
    const pathParameters = { 'method.request.path.source': true };
    const healthResource = this.api.root.addResource('health');
    const post = source.addMethod('POST', webhook, { requestValidator: validator, requestParameters: pathParameters });
    const preflight = source.addMethod('OPTIONS', webhook, { requestValidator: validator, requestParameters: pathParameters });
    const live = healthResource.addMethod('GET', health, { requestValidator: validator });
    const ready = healthResource.addResource('ready').addMethod('GET', health, { requestValidator: validator });
    this.methods = [post, preflight, live, ready];
    // Any other method: 405 with Allow, as the functions answer it, without invoking them.
    this.notAllowed = [
      methodNotAllowed(source, ['POST', 'OPTIONS'], 'Only POST is accepted here.'),
      methodNotAllowed(healthResource, ['GET'], 'Only GET is accepted here.'),
      methodNotAllowed(ready.resource, ['GET'], 'Only GET is accepted here.'),
    ];
    for (const method of this.notAllowed) {
      acknowledge(method, 'AwsSolutions-APIG4', METHOD_NOT_ALLOWED_IS_PUBLIC);
      acknowledge(method, 'AwsSolutions-COG4', METHOD_NOT_ALLOWED_IS_PUBLIC);
    }
    for (const answer of GATEWAY_ANSWERS) {
      // A static header value is quoted ('nosniff') and cannot hold a quote, so the CSP ('none') is left out: a JSON
      // body under nosniff runs nothing anyway.
      const headers = staticSecurityHeaders(answer.headers);
      this.api.addGatewayResponse(answer.type.responseType, {
        type: answer.type,
        ...(answer.status ? { statusCode: answer.status } : {}),
        responseHeaders: Object.fromEntries(headers.map(([name, value]) => [name, `'${value}'`])),
        templates: { 'application/json': gatewayAnswerTemplate(answer.code, answer.message) },
      });
    }

    acknowledge(post, 'AwsSolutions-APIG4', PUBLIC_BY_DESIGN);
    acknowledge(post, 'AwsSolutions-COG4', PUBLIC_BY_DESIGN);
    // A CORS preflight carries no credentials by definition (Fetch standard); cdk-nag exempts OPTIONS from COG4 only.
    acknowledge(
      preflight,
      'AwsSolutions-APIG4',
      'A CORS preflight (OPTIONS) never carries credentials (Fetch standard); the function answers it with exact-origin matching and no data.',
    );
    for (const method of [live, ready]) {
      acknowledge(method, 'AwsSolutions-APIG4', HEALTH_IS_PUBLIC);
      acknowledge(method, 'AwsSolutions-COG4', HEALTH_IS_PUBLIC);
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        ACCOUNT_LOGGING_ROLE,
      );
    }
  }
}
