import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  type Method,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link WebhookApi}. */
export interface WebhookApiProps {
  readonly webhookFunction: IFunction;
  readonly healthFunction: IFunction;
  /** @default 'dev' */
  readonly stageName?: string;
  /** Steady requests per second across the stage. @default 100 */
  readonly throttlingRateLimit?: number;
  /** @default 200 */
  readonly throttlingBurstLimit?: number;
  /** @default false */
  readonly production?: boolean;
}

const PUBLIC_BY_DESIGN =
  'Webhook providers cannot present AWS, Cognito or token credentials; an authorizer never sees the body, so authenticity is proven in the handler by the HMAC signature over the raw body (and the IP allowlist, WAF and throttling in front).';

/**
 * The regional REST API: `POST /webhooks/{source}` (and its CORS preflight,
 * answered by the webhook function with exact-origin matching), `GET /health`,
 * `GET /health/ready`; nothing else. JSON access logs, execution logs, stage
 * throttling, request validation of the path parameter.
 */
export class WebhookApi extends Construct {
  public readonly api: RestApi;
  public readonly accessLogs: LogGroup;
  /** The methods, for acknowledgements and tests. */
  public readonly methods: readonly Method[];

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: 'hookwarden',
      description: 'Hookwarden: secure front door for webhooks',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName ?? 'dev',
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 100,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
      },
    });
    // Body validation has no model to apply (bodies are opaque signed bytes: JSON, forms, anything);
    // it is on so any model added later is enforced. Parameters are validated (the {source} path).
    const validator = new RequestValidator(this, 'Validator', { restApi: this.api, validateRequestParameters: true, validateRequestBody: true });
    const webhook = new LambdaIntegration(props.webhookFunction);
    const health = new LambdaIntegration(props.healthFunction);
    const source = this.api.root.addResource('webhooks').addResource('{source}');
    const pathParameters = { 'method.request.path.source': true };
    const healthResource = this.api.root.addResource('health');
    this.methods = [
      source.addMethod('POST', webhook, { requestValidator: validator, requestParameters: pathParameters }),
      source.addMethod('OPTIONS', webhook, { requestValidator: validator, requestParameters: pathParameters }),
      healthResource.addMethod('GET', health, { requestValidator: validator }),
      healthResource.addResource('ready').addMethod('GET', health, { requestValidator: validator }),
    ];
    for (const method of this.methods) {
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason: PUBLIC_BY_DESIGN });
      Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason: PUBLIC_BY_DESIGN });
    }
  }
}
