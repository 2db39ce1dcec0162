import type { CfnResource } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { QueryDefinition, QueryString } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Props of {@link SecretAudit}. */
export interface SecretAuditProps {
  /** The secrets whose reads are watched. */
  readonly secrets: readonly ISecret[];
  /** Roles expected to read the secrets (the webhook function's). */
  readonly expectedReaders: readonly IRole[];
  /** Notified of unexpected reads. */
  readonly topic: ITopic;
  /** The topic's key: EventBridge is allowed to use it to publish. */
  readonly topicKey: IKey;
  /** Log groups of the functions, for the saved Logs Insights queries. */
  readonly functionLogs: readonly ILogGroup[];
  /** Prefix of the saved query names (shown in the Logs Insights console). @default 'hookwarden' */
  readonly queryPrefix?: string;
}

/**
 * Audit of secret access and saved investigation queries. An EventBridge rule
 * sees every `GetSecretValue` on the sources' secrets (a read-only management
 * event, so the rule is enabled for all CloudTrail management events; the
 * account needs a trail) by anyone other than the expected roles, and notifies
 * the alarm topic. Saved Logs Insights queries list security events.
 */
export class SecretAudit extends Construct {
  /** `GetSecretValue` on a source secret by anyone but the expected roles, to the topic. */
  public readonly rule: Rule;
  /** Saved Logs Insights queries: security events, authentication failures, bypass attempts, rate limited and blocked. */
  public readonly queries: readonly QueryDefinition[];

  constructor(scope: Construct, id: string, props: SecretAuditProps) {
    super(scope, id);
    this.rule = new Rule(this, 'UnexpectedSecretAccess', {
      description: 'Hookwarden: a webhook secret was read by a principal other than the webhook function',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventName: ['GetSecretValue'],
          requestParameters: { secretId: props.secrets.map((s) => s.secretArn) },
          userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': props.expectedReaders.map((r) => r.roleArn) }] } } },
        },
      },
    });
    // The SnsTopic target would let any EventBridge rule of any account publish (no condition): this rule only.
    this.rule.addTarget({ bind: () => ({ arn: props.topic.topicArn }) });
    props.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowSecretAuditRule',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.rule.ruleArn } },
      }),
    );
    // GetSecretValue is a read-only management event: the L2 has no property for this state.
    (this.rule.node.defaultChild as CfnResource).addPropertyOverride('State', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    props.topicKey.grant(new ServicePrincipal('events.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    const query = (name: string, lines: string[]) =>
      new QueryDefinition(this, name.replace(/[^A-Za-z]/g, ''), {
        queryDefinitionName: `${props.queryPrefix ?? 'hookwarden'}/${name}`,
        logGroups: [...props.functionLogs],
        queryString: new QueryString({ fields: ['@timestamp', 'securityEvent.code', 'securityEvent.source', 'securityEvent.clientIp', 'securityEvent.reason'], filterStatements: lines, sort: '@timestamp desc', limit: 200 }),
      });
    this.queries = [
      query('security events', ['ispresent(securityEvent.code)']),
      query('authentication failures', ['securityEvent.code in ["signature_invalid", "timestamp_invalid", "timestamp_out_of_range"]']),
      query('bypass attempts', ['message = "bypass attempt"']),
      query('rate limited and blocked', ['securityEvent.code in ["rate_limited", "ip_blocked"]']),
    ];
  }
}
