import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EdgeFirewall } from './constructs/edge-firewall';
import { SecretAudit } from './constructs/secret-audit';
import { SecurityAlarms } from './constructs/security-alarms';
import { SourceSecrets } from './constructs/source-secrets';
import { WebhookApi } from './constructs/webhook-api';
import { WebhookFunctions } from './constructs/webhook-functions';
import { WebhookTables } from './constructs/tables';
import type { DeploymentSettings } from './settings';

/** Props of {@link HookwardenStack}. */
export interface HookwardenStackProps extends StackProps {
  readonly settings: DeploymentSettings;
}

/** The whole production system: tables, secrets, functions, API, WAF, alarms, dashboard, outputs. */
export class HookwardenStack extends Stack {
  public readonly tables: WebhookTables;
  public readonly secrets: SourceSecrets;
  public readonly functions: WebhookFunctions;
  public readonly api: WebhookApi;
  public readonly firewall?: EdgeFirewall;
  public readonly alarms: SecurityAlarms;
  public readonly audit: SecretAudit;

  constructor(scope: Construct, id: string, props: HookwardenStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const production = settings.stage === 'prod';
    this.tables = new WebhookTables(this, 'Tables', { production });
    this.secrets = new SourceSecrets(this, 'Secrets', { sources: settings.sources, production });
    this.functions = new WebhookFunctions(this, 'Functions', {
      sources: settings.sources,
      secrets: this.secrets.secrets,
      deliveries: this.tables.deliveries,
      rateLimits: this.tables.rateLimits,
      corsOrigins: settings.corsOrigins,
      trustedProxies: settings.trustedProxies,
      production: !settings.debug,
    });
    this.api = new WebhookApi(this, 'Api', {
      webhookFunction: this.functions.webhook,
      healthFunction: this.functions.health,
      stageName: settings.stage,
      production,
    });
    if (settings.wafEnabled) this.firewall = new EdgeFirewall(this, 'Firewall', { stage: this.api.api.deploymentStage, rateLimitPer5Minutes: settings.wafRateLimitPer5Minutes });
    this.alarms = new SecurityAlarms(this, 'Alarms', {
      api: this.api.api,
      functions: [this.functions.webhook, this.functions.health],
      tables: [this.tables.deliveries, this.tables.rateLimits],
      sources: settings.sources.map((s) => s.name),
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    });
    this.audit = new SecretAudit(this, 'Audit', {
      secrets: [...this.secrets.secrets.values()],
      expectedReaders: this.functions.webhook.role ? [this.functions.webhook.role] : [],
      topic: this.alarms.topic,
      topicKey: this.alarms.topicKey,
      functionLogs: [this.functions.webhookLogs, this.functions.healthLogs],
    });
    this.acknowledge(settings);

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the API' });
    for (const source of settings.sources) {
      new CfnOutput(this, `WebhookUrl${source.name.replace(/[^A-Za-z0-9]/g, '')}`, { value: `${this.api.api.url}webhooks/${source.name}`, description: `Webhook URL for source "${source.name}"` });
      const secret = this.secrets.secrets.get(source.name);
      if (secret) new CfnOutput(this, `SecretArn${source.name.replace(/[^A-Za-z0-9]/g, '')}`, { value: secret.secretArn, description: `Secret holding the keys of source "${source.name}"` });
    }
    new CfnOutput(this, 'DeliveriesTableName', { value: this.tables.deliveries.tableName });
    new CfnOutput(this, 'RateLimitsTableName', { value: this.tables.rateLimits.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    if (this.firewall) {
      new CfnOutput(this, 'BlockedIpv4SetArn', { value: this.firewall.blockedIpv4.attrArn, exportName: `${id}-BlockedIpv4SetArn` });
      new CfnOutput(this, 'BlockedIpv6SetArn', { value: this.firewall.blockedIpv6.attrArn, exportName: `${id}-BlockedIpv6SetArn` });
    }
  }

  /** cdk-nag acknowledgements, each on one construct with the reason a reviewer needs. */
  private acknowledge(settings: DeploymentSettings): void {
    const ack = (construct: Construct, id: string, reason: string) => Validations.of(construct).acknowledge({ id, reason });
    for (const [name, secret] of this.secrets.secrets) {
      if (!this.secrets.node.tryFindChild(name)) continue;
      ack(secret, 'AwsSolutions-SMG4', 'Webhook signing secrets are shared with the provider and rotated with the provider (several keys valid at once during the overlap, see the key document); an automatic rotation could not update the provider side.');
    }
    for (const fn of [this.functions.webhook, this.functions.health]) {
      const policy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        ack(policy, 'AwsSolutions-IAM5', 'Scoped grants generated by CDK: the function\'s own log group streams (log-stream:*), and for the webhook function its table\'s index ARNs (table/index/*); no action wildcard beyond the grant helpers.');
      }
    }
    if (!this.firewall) {
      ack(
        this.api.api.deploymentStage,
        'AwsSolutions-APIG3',
        settings.wafDisabledAcknowledged ?? 'Development stage: WAF is on by default in prod (context wafEnabled); dev relies on stage throttling and the in-handler checks.',
      );
    }
    const cloudWatchRole = this.api.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      ack(cloudWatchRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', 'API Gateway\'s account-level logging role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logging.');
    }
  }
}
