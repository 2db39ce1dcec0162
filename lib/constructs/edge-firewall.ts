import { CfnIPSet, CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { github, shopify, slack, standardWebhooks, stripe } from '../../core/schemes/index.js';
import type { SourceDescription } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { claimPhysicalName } from './physical-names.js';
import { Problems } from '../../core/config/rules.js';
import { booleanProp, wholeNumberProp } from './prop-checks.js';

/** WAF delivers logs to a CloudWatch Logs group only when its name starts with this. */
export const WAF_LOG_GROUP_PREFIX = 'aws-waf-logs-';

/**
 * The request headers WAF's logs must never hold: `authorization` (the deliveries API's read tokens), every preset's
 * signature headers (and GitHub's legacy SHA-1 one, which it still sends), and each `hmac` source's own header, in
 * lower case and once each. A signature is a MAC of the body under the source's secret: logged, it would let whoever
 * reads the logs test guesses of a weak secret offline. WAF never logs bodies.
 */
export const redactedHeaders = (sources: readonly Pick<SourceDescription, 'hmac'>[]): string[] => [
  ...new Set(
    [
      'authorization',
      'x-hub-signature',
      ...[standardWebhooks, github, stripe, slack, shopify].flatMap((scheme) => scheme.signatureHeaders ?? []),
      ...sources.flatMap((source) => (source.hmac?.header ? [source.hmac.header] : [])),
    ].map((name) => name.toLowerCase()),
  ),
];

/** WAF's most redacted fields in one logging configuration. */
export const WAF_MAX_REDACTED_FIELDS = 100;

/** WAF's longest metric name: a web ACL with a longer one fails the deploy (CloudFormation validates it only then). */
export const WAF_METRIC_NAME_MAX = 128;

/** The longest `metricPrefix` whose metric names fit {@link WAF_METRIC_NAME_MAX} (`<metricPrefix>-rate-per-ip` the longest). */
export const WAF_METRIC_PREFIX_MAX = WAF_METRIC_NAME_MAX - '-rate-per-ip'.length;

/**
 * The WAF metric prefix of a stack: its name in lower case. A stack name may have 128 characters (a Stage's name
 * before the stack's id makes long ones), and a prefix over {@link WAF_METRIC_PREFIX_MAX} failed the deploy: such a
 * name is cut to fit and ends with a hash of the whole, so two long names that share their start stay apart.
 * @example wafMetricPrefix('Hookwarden-prod') // 'hookwarden-prod'
 */
export const wafMetricPrefix = (stackName: string): string => {
  const lower = stackName.toLowerCase();
  if (lower.length <= WAF_METRIC_PREFIX_MAX || Token.isUnresolved(stackName)) return lower;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  return `${lower.slice(0, WAF_METRIC_PREFIX_MAX - hash.length - 1)}-${hash}`;
};

/** Rules of the AWS common rule set that inspect the body. */
const BODY_RULES = ['SizeRestrictions_BODY', 'CrossSiteScripting_BODY', 'GenericLFI_BODY', 'GenericRFI_BODY', 'EC2MetaDataSSRF_BODY'];

/** Props of {@link EdgeFirewall}. */
export interface EdgeFirewallProps {
  /** The API stage the web ACL is associated with. */
  readonly stage: Stage;
  /**
   * Requests per client IP per 5 minutes before WAF blocks it. Providers deliver
   * from few addresses, and some never retry a refused delivery: keep it generous.
   * @default 10000
   */
  readonly rateLimitPer5Minutes?: number;
  /**
   * WAF metric names start with it, so two stages' metrics stay apart; at most {@link WAF_METRIC_PREFIX_MAX} characters.
   * @default wafMetricPrefix(stack name)
   */
  readonly metricPrefix?: string;
  /** Headers kept out of the WAF logs ({@link redactedHeaders} of the stack's sources). @default redactedHeaders([]) */
  readonly redactedHeaders?: readonly string[];
  /**
   * The WAF log group's name: it must start with `aws-waf-logs-` (WAF logs to no other group) and be unique in the
   * account and region, so a second firewall in one stack needs its own.
   * @default `aws-waf-logs-<stack name>`
   */
  readonly logGroupName?: string;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** Production keeps the WAF logs when the stack is deleted (RETAIN). @default false */
  readonly production?: boolean;
}

/**
 * A regional WAF web ACL on the API stage: blocked IP sets (IPv4 and IPv6,
 * exported so operators can add addresses), a rate-based rule per client IP,
 * and the AWS managed common rule set (its body rules count instead of blocking:
 * webhook bodies are large and may hold anything; the handler authenticates
 * them and enforces its own size limit), and WAF logs to `aws-waf-logs-<stack>` with
 * the signature and token headers redacted.
 */
export class EdgeFirewall extends Construct {
  /** The regional web ACL, associated with the stage. */
  public readonly webAcl: CfnWebACL;
  /** Blocked IPv4 addresses and CIDRs; empty at deploy, filled by operators (`hookwarden block`). */
  public readonly blockedIpv4: CfnIPSet;
  /** Blocked IPv6 addresses and CIDRs. */
  public readonly blockedIpv6: CfnIPSet;
  /** The association of {@link webAcl} with the stage. */
  public readonly association: CfnWebACLAssociation;
  /** WAF's logs of every request it inspects (`aws-waf-logs-<stack>`), signature and token headers redacted. */
  public readonly logs: LogGroup;
  /** The web ACL's logging configuration, to {@link logs}. */
  public readonly logging: CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: EdgeFirewallProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupName = props.logGroupName ?? `${WAF_LOG_GROUP_PREFIX}${stack.stackName}`;
    const redacted = props.redactedHeaders ?? redactedHeaders([]);
    const prefix = props.metricPrefix ?? wafMetricPrefix(stack.stackName);
    const problems = new Problems();
    if (!Token.isUnresolved(prefix) && prefix.length > WAF_METRIC_PREFIX_MAX)
      problems.add(
        'metricPrefix',
        `is ${prefix.length} characters: WAF metric names ("<metricPrefix>-rate-per-ip") take at most ${WAF_METRIC_NAME_MAX}, so at most ${WAF_METRIC_PREFIX_MAX}`,
      );
    // WAF's own range for a rate-based rule's limit (as context wafRateLimit): outside it the deploy fails.
    booleanProp(problems, 'production', props.production);
    wholeNumberProp(problems, 'rateLimitPer5Minutes', props.rateLimitPer5Minutes, 10, 2_000_000_000);
    if (!logGroupName.startsWith(WAF_LOG_GROUP_PREFIX))
      problems.add('logGroupName', `"${logGroupName}" must start with "${WAF_LOG_GROUP_PREFIX}": WAF logs to no other log group`);
    if (redacted.length > WAF_MAX_REDACTED_FIELDS)
      problems.add(
        'redactedHeaders',
        `WAF logging redacts at most ${WAF_MAX_REDACTED_FIELDS} headers, and these sources sign with ${redacted.length} different ones: share hmac header names between sources, or split the stack`,
      );
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    this.blockedIpv4 = new CfnIPSet(this, 'BlockedIpv4', {
      scope: 'REGIONAL',
      ipAddressVersion: 'IPV4',
      addresses: [],
      description: 'Hookwarden blocked client addresses IPv4',
    });
    this.blockedIpv6 = new CfnIPSet(this, 'BlockedIpv6', {
      scope: 'REGIONAL',
      ipAddressVersion: 'IPV6',
      addresses: [],
      description: 'Hookwarden blocked client addresses IPv6',
    });
    const visibility = (name: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${prefix}-${name}`,
    });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('waf'),
      rules: [
        {
          name: 'blocked-ips',
          priority: 0,
          action: { block: {} },
          statement: {
            orStatement: {
              statements: [
                { ipSetReferenceStatement: { arn: this.blockedIpv4.attrArn } },
                { ipSetReferenceStatement: { arn: this.blockedIpv6.attrArn } },
              ],
            },
          },
          visibilityConfig: visibility('blocked-ips'),
        },
        {
          name: 'rate-per-ip',
          priority: 1,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.rateLimitPer5Minutes ?? 10_000, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('rate-per-ip'),
        },
        {
          name: 'aws-common',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // Body rules only count: a signed delivery may legitimately carry "<script>" or "../" (a commit
              // message, a support ticket), some providers never retry a refused delivery, and the
              // handler proves the body authentic, which WAF cannot.
              ruleActionOverrides: BODY_RULES.map((name) => ({ name, actionToUse: { count: {} } })),
            },
          },
          visibilityConfig: visibility('aws-common'),
        },
      ],
    });
    this.association = new CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.webAcl.attrArn });

    // Which rule blocked whom, and what the count-only body rules would have blocked: without logs, a delivery WAF
    // refused left no trace but a metric. Not KMS-encrypted, as the functions' and the access logs' groups are not.
    claimPhysicalName(this, 'log group name', logGroupName, 'logGroupName');
    this.logs = new LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.logging = new CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the group's ARN without LogGroup.logGroupArn's ":*".
      logDestinationConfigs: [
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      redactedFields: redacted.map((name) => ({ singleHeader: { Name: name } })),
    });
    this.logging.node.addDependency(this.logs);
  }
}
