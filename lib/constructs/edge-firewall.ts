import { CfnIPSet, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

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
  /** WAF metric names start with it, so two stages' metrics stay apart. @default - the stack's name, lower case */
  readonly metricPrefix?: string;
}

/**
 * A regional WAF web ACL on the API stage: blocked IP sets (IPv4 and IPv6,
 * exported so operators can add addresses), a rate-based rule per client IP,
 * and the AWS managed common rule set (its body rules count instead of blocking:
 * webhook bodies are large and may hold anything; the handler authenticates
 * them and enforces its own size limit).
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

  constructor(scope: Construct, id: string, props: EdgeFirewallProps) {
    super(scope, id);
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
    const prefix = props.metricPrefix ?? Stack.of(this).stackName.toLowerCase();
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
  }
}
