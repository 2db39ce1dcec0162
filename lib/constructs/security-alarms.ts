import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AnomalyDetectionAlarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  type IAlarm,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Props of {@link SecurityAlarms}. */
export interface SecurityAlarmsProps {
  readonly api: RestApi;
  readonly functions: readonly IFunction[];
  readonly tables: readonly ITableV2[];
  readonly sources: readonly string[];
  /** Subscribed to the topic when given. */
  readonly alarmEmail?: string;
  /** Authentication failures (signature and timestamp rejections) in 5 minutes that raise the alarm. @default 20 */
  readonly authenticationFailureThreshold?: number;
  /** Rate-limited deliveries in 5 minutes that raise the alarm. @default 50 */
  readonly rateLimitedThreshold?: number;
  /** Requests from blocked addresses in 5 minutes that raise the alarm. @default 50 */
  readonly blockedThreshold?: number;
}

/** The metrics namespace and service dimension the functions report under (Powertools). */
export const METRICS = { namespace: 'Hookwarden', service: 'hookwarden' } as const;

/**
 * The alarm topic (KMS-encrypted, TLS-only) and the alarms on webhook
 * authentication failures (threshold and anomaly band), API 5xx, Lambda errors
 * and throttles, DynamoDB throttles; plus a dashboard with accepted, duplicate
 * and rejected deliveries by source and reason.
 */
export class SecurityAlarms extends Construct {
  public readonly topic: Topic;
  public readonly topicKey: Key;
  public readonly authenticationFailures: Alarm;
  public readonly alarms: readonly IAlarm[];
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SecurityAlarmsProps) {
    super(scope, id);
    this.topicKey = new Key(this, 'TopicKey', { enableKeyRotation: true, description: 'Hookwarden alarm topic' });
    this.topicKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { displayName: 'Hookwarden alarms', masterKey: this.topicKey, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);
    const fiveMinutes = Duration.minutes(5);

    const authFailures = new Metric({
      namespace: METRICS.namespace,
      metricName: 'AuthenticationFailure',
      dimensionsMap: { service: METRICS.service },
      statistic: 'Sum',
      period: fiveMinutes,
    });
    this.authenticationFailures = new Alarm(this, 'AuthenticationFailures', {
      alarmDescription: 'Webhook signature or timestamp rejections above the threshold in 5 minutes: forged or replayed deliveries, or a secret out of sync.',
      metric: authFailures,
      threshold: props.authenticationFailureThreshold ?? 20,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const anomaly = new AnomalyDetectionAlarm(this, 'AuthenticationFailureAnomaly', {
      alarmDescription: 'Webhook authentication failures outside their usual band.',
      metric: authFailures,
      stdDevs: 3,
      evaluationPeriods: 2,
      comparisonOperator: ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const alarms: Alarm[] = [this.authenticationFailures, anomaly];
    const serviceMetric = (metricName: string) =>
      new Metric({ namespace: METRICS.namespace, metricName, dimensionsMap: { service: METRICS.service }, statistic: 'Sum', period: fiveMinutes });
    alarms.push(
      serviceMetric('RateLimited').createAlarm(this, 'RateLimitedSpike', {
        alarmDescription: 'Many deliveries refused by the rate limits: a misbehaving sender or an attack with a valid secret.',
        threshold: props.rateLimitedThreshold ?? 50,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      serviceMetric('BlockedRequest').createAlarm(this, 'BlockedSpike', {
        alarmDescription: 'Many requests from blocked addresses reached the function (not dropped at the edge).',
        threshold: props.blockedThreshold ?? 50,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    alarms.push(
      props.api.metricServerError({ period: fiveMinutes }).createAlarm(this, 'Api5xx', {
        alarmDescription: 'The API answered 5xx.',
        threshold: 5,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    props.functions.forEach((fn, index) => {
      alarms.push(
        fn.metricErrors({ period: fiveMinutes }).createAlarm(this, `FunctionErrors${index}`, { alarmDescription: 'A Hookwarden function threw.', threshold: 1, evaluationPeriods: 1, treatMissingData: TreatMissingData.NOT_BREACHING }),
        fn.metricThrottles({ period: fiveMinutes }).createAlarm(this, `FunctionThrottles${index}`, { alarmDescription: 'A Hookwarden function was throttled.', threshold: 1, evaluationPeriods: 1, treatMissingData: TreatMissingData.NOT_BREACHING }),
      );
    });
    props.tables.forEach((table, index) => {
      const throttles = new MathExpression({
        expression: 'r + w',
        usingMetrics: {
          r: table.metric('ReadThrottleEvents', { period: fiveMinutes, statistic: 'Sum' }),
          w: table.metric('WriteThrottleEvents', { period: fiveMinutes, statistic: 'Sum' }),
        },
        period: fiveMinutes,
      });
      alarms.push(
        throttles.createAlarm(this, `TableThrottles${index}`, { alarmDescription: 'DynamoDB throttled Hookwarden.', threshold: 1, evaluationPeriods: 1, treatMissingData: TreatMissingData.NOT_BREACHING }),
      );
    });
    for (const alarm of alarms) alarm.addAlarmAction(action);
    this.alarms = alarms;

    const bySource = (name: string) =>
      props.sources.map(
        (source) => new Metric({ namespace: METRICS.namespace, metricName: name, dimensionsMap: { service: METRICS.service, source }, statistic: 'Sum', period: fiveMinutes, label: source }),
      );
    const rejectedByReason = new MathExpression({
      expression: `SEARCH('{${METRICS.namespace},code,service,source} MetricName="DeliveryRejected"', 'Sum', 300)`,
      label: 'rejected',
      period: fiveMinutes,
    });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `hookwarden-${id.toLowerCase()}`,
      widgets: [
        [
          new GraphWidget({ title: 'Accepted deliveries by source', left: bySource('DeliveryAccepted'), width: 8 }),
          new GraphWidget({ title: 'Duplicate deliveries by source', left: bySource('DeliveryDuplicate'), width: 8 }),
          new GraphWidget({ title: 'Rejected deliveries by source and reason', left: [rejectedByReason], width: 8 }),
        ],
        [
          new GraphWidget({ title: 'Authentication failures', left: [authFailures], width: 8 }),
          new GraphWidget({ title: 'API 4xx / 5xx', left: [props.api.metricClientError({ period: fiveMinutes }), props.api.metricServerError({ period: fiveMinutes })], width: 8 }),
          new GraphWidget({ title: 'Function errors and throttles', left: props.functions.flatMap((fn) => [fn.metricErrors(), fn.metricThrottles()]), width: 8 }),
        ],
        [
          new GraphWidget({
            title: 'Bypass attempts (untrusted X-Forwarded-For, IPv6 spread)',
            left: [new MathExpression({ expression: `SEARCH('{${METRICS.namespace},code,service} MetricName="BypassAttempt"', 'Sum', 300)`, label: 'bypass', period: fiveMinutes })],
            width: 12,
          }),
        ],
      ],
    });
  }
}
