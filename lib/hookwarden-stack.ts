import { CfnOutput, Duration, Stack, Token, type StackProps } from 'aws-cdk-lib';
import { ConfigError } from '../core/errors.js';
import type { Construct } from 'constructs';
import { AuditTrail } from './constructs/audit-trail.js';
import { DeliveriesApi } from './constructs/deliveries-api.js';
import { EdgeFirewall, redactedHeaders } from './constructs/edge-firewall.js';
import { metricsIdentity } from '../core/telemetry.js';
import { SecretAudit } from './constructs/secret-audit.js';
import { SecretRotation } from './constructs/secret-rotation.js';
import { SecurityAlarms } from './constructs/security-alarms.js';
import { SourceSecrets } from './constructs/source-secrets.js';
import { WebhookTables } from './constructs/tables.js';
import { WebhookApi } from './constructs/webhook-api.js';
import { WebhookHttpApi } from './constructs/webhook-http-api.js';
import { WebhookFunctions, type WebhookHandler } from './constructs/webhook-functions.js';
import { acknowledge } from './nag.js';
import { DELIVERIES_BY_TIME } from '../core/stores/tables.js';
import type { DeploymentSettings } from './settings.js';
import { HTTP_API_FRONT_DOOR, outputKey } from './stack-outputs.js';

/** Props of {@link HookwardenStack}. */
export interface HookwardenStackProps extends StackProps {
  /** What to deploy: sources, CORS, stage, alarm email, WAF (see `readSettings`). */
  readonly settings: DeploymentSettings;
  /**
   * The webhook function's code: your own handler (a file, or a factory) gets
   * the same tables, secrets, grants, API routes, WAF, alarms and audit as Hookwarden's.
   * @default - Hookwarden's own handler (functions/webhook/handler.ts)
   * @example new HookwardenStack(app, 'Webhooks', { settings, webhookHandler: { entry: 'src/webhook.ts' } })
   */
  readonly webhookHandler?: WebhookHandler;
}

/**
 * The whole production system: tables, per-source secrets, functions, REST
 * API, WAF, alarm topic, alarms and dashboard, secret-access audit, outputs.
 */
export class HookwardenStack extends Stack {
  /** Deliveries and rate-limits tables. */
  public readonly tables: WebhookTables;
  /** One secret per source. */
  public readonly secrets: SourceSecrets;
  /** Webhook and health functions, their roles and log groups. */
  public readonly functions: WebhookFunctions;
  /** The REST API and its stage, or the HTTP API (context `frontDoor=http-api`). */
  public readonly api: WebhookApi | WebhookHttpApi;
  /**
   * The deliveries API: reader and events functions, `GET /deliveries…` and `GET /events`.
   * On the REST front door only: `/events` needs REST's response streaming, which an HTTP API lacks.
   */
  public readonly deliveriesApi?: DeliveriesApi;
  /** Absent when WAF is disabled (dev default, or prod with `wafDisabledReason`). */
  public readonly firewall?: EdgeFirewall;
  /** Alarm topic, alarms and dashboard. */
  public readonly alarms: SecurityAlarms;
  /** Secret-read audit rule and saved queries. */
  public readonly audit: SecretAudit;
  /** Rotation schedules (github, shared), key-age alarms (manual), rotation-failure alarms. */
  public readonly rotation: SecretRotation;
  /** The trail that feeds the audit (context `cloudTrail=create`, the prod default); absent when the account's own trail is relied on. */
  public readonly trail?: AuditTrail;

  constructor(scope: Construct, id: string, props: HookwardenStackProps) {
    // CDK's own refusal quotes the token ("must match the regular expression …, got '${Token[TOKEN.32]}'"), naming
    // neither the prop nor why: say both, before CDK does.
    if (props.stackName !== undefined && Token.isUnresolved(props.stackName))
      throw new ConfigError([
        `stackName: must be known at synth (a plain string), not a token such as a parameter's value: the secrets, alarms, dashboard, metrics namespace and the functions' bundled configuration are named after it`,
      ]);
    super(scope, id, props);
    const { settings } = props;
    // The deployed stack's name, not the construct id: they differ when the stack is given a `stackName` or sits in a
    // Stage. The secrets are named under it (SourceSecrets), so the read audit must watch that prefix (it watched the
    // id's, and every read of the secrets went unseen), and the on-call's `rotate --stack` must name it.
    const name = this.stackName;
    const production = settings.stage === 'prod';
    // Names and metrics carry the stack's name (one per stage): dev and prod can share an account and region.
    const metrics = metricsIdentity(name);
    this.tables = new WebhookTables(this, 'Tables', { production });
    this.secrets = new SourceSecrets(this, 'Secrets', { sources: settings.sources, production, namePrefix: name });
    this.functions = new WebhookFunctions(this, 'Functions', {
      sources: settings.sources,
      secrets: this.secrets.secrets,
      secretIds: this.secrets.secretIds,
      deliveries: this.tables.deliveries,
      rateLimits: this.tables.rateLimits,
      corsOrigins: settings.corsOrigins,
      trustedProxies: settings.trustedProxies,
      acceptRisks: settings.acceptRisks ?? [],
      production,
      debug: settings.debug,
      secretCache: Duration.seconds(settings.secretCacheSeconds),
      metrics,
      ...(settings.reservedConcurrency !== undefined ? { reservedConcurrency: settings.reservedConcurrency } : {}),
      ...(props.webhookHandler ? { webhookHandler: props.webhookHandler } : {}),
    });
    const apiProps = { webhookFunction: this.functions.webhook, healthFunction: this.functions.health, production };
    if (settings.frontDoor === 'http-api') {
      // An HTTP API cannot carry a WAF: prod needs wafDisabledReason (the checklist), and none is created.
      this.api = new WebhookHttpApi(this, 'HttpApi', { ...apiProps, apiName: name });
    } else {
      const rest = new WebhookApi(this, 'Api', {
        ...apiProps,
        restApiName: name,
        stageName: settings.stage,
        tracing: settings.tracing,
        cloudWatchRole: settings.apiGatewayCloudWatchRole === 'create',
      });
      this.api = rest;
      this.deliveriesApi = new DeliveriesApi(this, 'DeliveriesApi', {
        api: rest.api,
        validator: rest.validator,
        deliveries: this.tables.deliveries,
        tokens: this.tables.tokens,
        rateLimits: this.tables.rateLimits,
        corsOrigins: settings.corsOrigins,
        production,
        debug: settings.debug,
        metrics,
        ...(settings.readerSettings ? { readerSettings: settings.readerSettings } : {}),
      });
      if (settings.wafEnabled) {
        this.firewall = new EdgeFirewall(this, 'Firewall', {
          stage: rest.api.deploymentStage,
          rateLimitPer5Minutes: settings.wafRateLimitPer5Minutes,
          redactedHeaders: redactedHeaders(settings.sources),
          production,
        });
      } else {
        acknowledge(
          rest.api.deploymentStage,
          'AwsSolutions-APIG3',
          settings.wafDisabledReason ??
            'Development stage without WAF (the default outside prod; context wafEnabled=true adds it): stage throttling, the in-function IP allowlist, signature check and rate limits still apply. Production refuses to synthesize without WAF unless wafDisabledReason explains why.',
        );
      }
    }
    this.alarms = new SecurityAlarms(this, 'Alarms', {
      api: this.api.api,
      // The deliveries API's functions too, when it is served (REST front door): a failing reader or stream alarms like the webhook.
      functions: [
        this.functions.webhook,
        this.functions.health,
        ...(this.deliveriesApi ? [this.deliveriesApi.reader, this.deliveriesApi.events] : []),
      ],
      // The tokens table is read only by the deliveries API: its throttles alarm where that API is served.
      tables: [this.tables.deliveries, this.tables.rateLimits, ...(this.deliveriesApi ? [this.tables.tokens] : [])],
      // Written with every stored delivery (both front doors), under one partition key value.
      indexes: [{ table: this.tables.deliveries, indexName: DELIVERIES_BY_TIME.name }],
      sources: settings.sources.map((s) => s.name),
      // The deliveries API serves webhook bodies: probing it for tokens alarms like forged deliveries do.
      ...(this.deliveriesApi ? { apiTokenRefusalThreshold: 20 } : {}),
      // Dashboards are global to the account, not regional as every other name here: the stack's name alone made the
      // second region's deploy of one stack name (the default app's Hookwarden-prod) fail, "already exists".
      dashboardName: `${name}-${this.region}`,
      alarmNamePrefix: name,
      metrics,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    });
    this.rotation = new SecretRotation(this, 'Rotation', {
      sources: settings.sources,
      secrets: this.secrets.secrets,
      secretIds: this.secrets.secretIds,
      topic: this.alarms.topic,
      topicKey: this.alarms.topicKey,
      alarmNamePrefix: name,
      stackName: name,
      metrics,
      secretCache: Duration.seconds(settings.secretCacheSeconds),
      production,
      ...(settings.githubApiUrl ? { githubApiUrl: settings.githubApiUrl } : {}),
      // An account that can spare the webhook function's reservation spares one execution per rotated source.
      reserveConcurrency: settings.reservedConcurrency !== undefined,
    });
    this.audit = new SecretAudit(this, 'Audit', {
      secretNamePrefix: name,
      importedSecretArns: settings.sources.flatMap((s) => (s.secretArn ? [s.secretArn] : [])),
      // The stack's own readers: the key-age check reads every manual source's secret daily, the rotation function its sources'.
      expectedReaders: [this.functions.webhookRole, ...this.rotation.secretReaders],
      topic: this.alarms.topic,
      topicKey: this.alarms.topicKey,
      // The deliveries API's refusals (bad tokens, scope, rate) are security events too.
      functionLogs: [
        this.functions.webhookLogs,
        this.functions.healthLogs,
        ...(this.deliveriesApi ? [this.deliveriesApi.readerLogs, this.deliveriesApi.eventsLogs] : []),
      ],
      queryPrefix: name,
    });
    if (settings.cloudTrail === 'create') this.trail = new AuditTrail(this, 'Trail');
    this.outputs(settings, name);
  }

  /** What operators and the `hookwarden` CLI read: keys from {@link outputKey}, the CLI's lookup; descriptions for people. */
  private outputs(settings: DeploymentSettings, stackName: string): void {
    const url = this.api instanceof WebhookHttpApi ? this.api.url : this.api.api.url;
    new CfnOutput(this, outputKey('apiUrl'), { value: url, description: 'Base URL of the API' });
    // Only where there is no deliveries API, so that the CLI can say why (a REST stack stays within its outputs, FIXED_OUTPUTS).
    if (this.api instanceof WebhookHttpApi)
      new CfnOutput(this, outputKey('frontDoor'), {
        value: HTTP_API_FRONT_DOOR,
        description: 'Front door: an HTTP API, which serves the webhook and health routes and no deliveries API',
      });
    for (const source of settings.sources) {
      new CfnOutput(this, outputKey('webhookUrl', source.name), {
        value: `${url}webhooks/${source.name}`,
        description: `Webhook URL for source "${source.name}"`,
      });
      const secret = this.secrets.secrets.get(source.name);
      if (secret)
        new CfnOutput(this, outputKey('secretArn', source.name), {
          value: secret.secretArn,
          description: `Secret holding the keys of source "${source.name}"`,
        });
    }
    new CfnOutput(this, outputKey('deliveriesTable'), {
      value: this.tables.deliveries.tableName,
      description: 'Deliveries table (stream: NEW_IMAGE)',
    });
    new CfnOutput(this, outputKey('rateLimitsTable'), {
      value: this.tables.rateLimits.tableName,
      description: 'Rate limits, blocklist and source switches',
    });
    new CfnOutput(this, outputKey('tokensTable'), {
      value: this.tables.tokens.tableName,
      description: 'Read tokens of the deliveries API (hashes only)',
    });
    new CfnOutput(this, outputKey('alarmTopic'), { value: this.alarms.topic.topicArn, description: 'SNS topic every alarm notifies' });
    if (this.firewall) {
      const ipv4 = outputKey('blockedIpv4Set');
      const ipv6 = outputKey('blockedIpv6Set');
      new CfnOutput(this, ipv4, {
        value: this.firewall.blockedIpv4.attrArn,
        exportName: `${stackName}-${ipv4}`,
        description: 'WAF IP set of blocked IPv4 addresses',
      });
      new CfnOutput(this, ipv6, {
        value: this.firewall.blockedIpv6.attrArn,
        exportName: `${stackName}-${ipv6}`,
        description: 'WAF IP set of blocked IPv6 addresses',
      });
    }
  }
}
