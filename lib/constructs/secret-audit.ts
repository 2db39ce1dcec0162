import type { CfnResource } from 'aws-cdk-lib';
import { Rule, type EventPattern } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { topicKeyStatement, topicStatementSid } from './security-alarms.js';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { QueryDefinition, QueryString } from 'aws-cdk-lib/aws-logs';
import { Annotations, Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AUTHENTICATION_FAILURE_CODES } from '../../core/errors.js';
import { SourceSecrets } from './source-secrets.js';

/** Props of {@link SecretAudit}. */
export interface SecretAuditProps {
  /**
   * Generated secrets are named `<secretNamePrefix>/...`: a read by name,
   * partial ARN or complete ARN of any of them is watched.
   */
  readonly secretNamePrefix: string;
  /** Complete ARNs of imported secrets: a read by name, partial ARN or complete ARN is watched. @default [] */
  readonly importedSecretArns?: readonly string[];
  /** Roles expected to read the secrets (the webhook function's, and the rotation and key-age functions'). */
  readonly expectedReaders: readonly IRole[];
  /** Notified of unexpected reads. */
  readonly topic: ITopic;
  /** The topic's key: EventBridge is allowed to use it to publish. */
  readonly topicKey: IKey;
  /** Log groups of the functions, for the saved Logs Insights queries. */
  readonly functionLogs: readonly ILogGroup[];
  /** Prefix of the saved query names (shown in the Logs Insights console): one per stage. @default - the stack's name */
  readonly queryPrefix?: string;
}

/** The partial ARN (no 6-character suffix) of the secret named `name` in `stack`'s account and region. */
export const secretArnOf = (stack: Stack, name: string): string =>
  stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

/**
 * How CloudTrail may record a read of the watched secrets: `requestParameters.secretId`
 * holds whatever the caller passed (the name, the partial ARN without the
 * 6-character suffix, or the complete ARN). EventBridge pattern values: exact
 * strings, or `{ prefix }`.
 */
export const secretIdPatterns = (stack: Stack, secretNamePrefix: string, importedSecretArns: readonly string[] = []): unknown[] => {
  const imported = importedSecretArns.flatMap((arn) => {
    const name = Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME).resourceName as string;
    const withoutSuffix = name.replace(/-[A-Za-z0-9]{6}$/, '');
    return [withoutSuffix, arn.slice(0, arn.length - name.length) + withoutSuffix, arn];
  });
  return [{ prefix: `${secretNamePrefix}/` }, { prefix: secretArnOf(stack, `${secretNamePrefix}/`) }, ...imported];
};

/**
 * The secrets of the stack's {@link SourceSecrets} that `props` leave unwatched, each a problem naming the prop to set:
 * a generated one named outside `<secretNamePrefix>/` (SourceSecrets given another `namePrefix`), an imported one
 * missing from `importedSecretArns`. A team composing the constructs gave them different prefixes, and every read of
 * those secrets, by anyone, went unseen.
 */
const unwatchedSecrets = (audit: Construct, props: SecretAuditProps): string[] => {
  const imported = new Set(props.importedSecretArns ?? []);
  const problems: string[] = [];
  for (const secrets of Stack.of(audit).node.findAll()) {
    if (!(secrets instanceof SourceSecrets)) continue;
    for (const [source, secretId] of secrets.secretIds) {
      if (/^arn:/.test(secretId)) {
        if (!imported.has(secretId))
          problems.push(
            `${audit.node.path}: importedSecretArns lacks the secret of source "${source}" (${secrets.node.path}), ${secretId}: its reads would go unseen`,
          );
      } else if (!secretId.startsWith(`${props.secretNamePrefix}/`))
        problems.push(
          `${audit.node.path}: secretNamePrefix "${props.secretNamePrefix}" does not cover the secret of source "${source}" (${secrets.node.path}), named "${secretId}": its reads would go unseen; give both the same prefix (SourceSecrets' namePrefix)`,
        );
    }
  }
  return problems;
};

/** EventBridge's default quota on one event pattern, in characters: a rule with a longer one fails the deploy. */
export const EVENT_PATTERN_MAX_CHARACTERS = 2048;

/**
 * The characters `pattern` takes once deployed, at most: a token inside a string (a partition, region or account in
 * an ARN) counted as 20 characters, the longest any of them resolves to; a value that is one token alone (a role's
 * ARN) as `wholeTokenChars`; and each key as its kebab-case form (`detail-type`).
 */
export const eventPatternSize = (pattern: EventPattern, wholeTokenChars = 20): number =>
  JSON.stringify(pattern, (_key, value: unknown) => {
    if (typeof value !== 'string' || !Token.isUnresolved(value)) return value;
    const token = /\$\{Token\[[^\]]*\]\}/g;
    return value.replace(token, 'x'.repeat(value.replace(token, '') === '' ? wholeTokenChars : 20));
  }).length + Object.keys(pattern).length;

/**
 * Audit of secret access and saved investigation queries. An EventBridge rule
 * sees every `GetSecretValue` on the sources' secrets, whether the caller named
 * the secret by name, partial ARN or complete ARN, by any identity (role,
 * IAM user, root, AWS service) other than the expected roles, and notifies the
 * alarm topic. `GetSecretValue` is a read-only management event: the rule is
 * enabled for all CloudTrail management events, and EventBridge receives them
 * only when a trail in the account logs management events ({@link AuditTrail}
 * or the account's own). Saved Logs Insights queries list security events.
 */
export class SecretAudit extends Construct {
  /** `GetSecretValue` on a source secret by anyone but the expected roles, to the topic. */
  public readonly rule: Rule;
  /** Saved Logs Insights queries: security events, authentication failures, bypass attempts, rate limited and blocked. */
  public readonly queries: readonly QueryDefinition[];

  constructor(scope: Construct, id: string, props: SecretAuditProps) {
    super(scope, id);
    const eventPattern: EventPattern = {
      source: ['aws.secretsmanager'],
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventName: ['GetSecretValue'],
        requestParameters: { secretId: secretIdPatterns(Stack.of(this), props.secretNamePrefix, props.importedSecretArns) },
        // A field named in a pattern must be present: `anything-but` on the session issuer alone never
        // matches IAM users, root or AWS services, which have none. So: another issuer, or none at all.
        $or: [
          {
            userIdentity: {
              sessionContext: { sessionIssuer: { arn: [{ 'anything-but': props.expectedReaders.map((r) => r.roleArn) }] } },
            },
          },
          { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
        ],
      },
    };
    // No fallback here (matching every read of every secret would page on-call for other applications): say at synth
    // what the deploy would refuse, and how to make room.
    // Its tokens include the expected readers' role ARNs: counted at their longest (a generated role's: 95 characters).
    const size = eventPatternSize(eventPattern, 95);
    if (size > EVENT_PATTERN_MAX_CHARACTERS) {
      Annotations.of(this).addWarningV2(
        'hookwarden:secretAuditPatternSize',
        `the secret audit rule's event pattern takes up to ${size} characters with ${(props.importedSecretArns ?? []).length} imported secrets; EventBridge refuses more than ${EVENT_PATTERN_MAX_CHARACTERS} unless the account's "Event pattern size" quota is raised (up to 4,096): raise it before deploying, or import fewer secrets`,
      );
    }
    // A secret the rule does not match is read unseen: checked at synth against every SourceSecrets in the stack.
    this.node.addValidation({ validate: () => unwatchedSecrets(this, props) });
    this.rule = new Rule(this, 'UnexpectedSecretAccess', {
      description: "Hookwarden: a webhook secret was read by a principal other than the stack's own functions",
      eventPattern,
    });
    // The SnsTopic target would let any EventBridge rule of any account publish (no condition): this rule only.
    this.rule.addTarget({ bind: () => ({ arn: props.topic.topicArn }) });
    props.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: topicStatementSid(props.topic, 'AllowSecretAuditRule'),
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.rule.ruleArn } },
      }),
    );
    // GetSecretValue is a read-only management event: the L2 has no property for this state.
    (this.rule.node.defaultChild as CfnResource).addPropertyOverride('State', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    props.topicKey.addToResourcePolicy(topicKeyStatement(this, 'AllowSecretAuditRule', 'events.amazonaws.com'));

    const query = (name: string, lines: string[]) =>
      new QueryDefinition(this, name.replace(/[^A-Za-z]/g, ''), {
        queryDefinitionName: `${props.queryPrefix ?? Stack.of(this).stackName}/${name}`,
        logGroups: [...props.functionLogs],
        queryString: new QueryString({
          fields: ['@timestamp', 'securityEvent.code', 'securityEvent.source', 'securityEvent.clientIp', 'securityEvent.reason'],
          filterStatements: lines,
          sort: '@timestamp desc',
          limit: 200,
        }),
      });
    this.queries = [
      query('security events', ['ispresent(securityEvent.code)']),
      query('authentication failures', [`securityEvent.code in [${AUTHENTICATION_FAILURE_CODES.map((code) => `"${code}"`).join(', ')}]`]),
      query('bypass attempts', ['message = "bypass attempt"']),
      query('rate limited and blocked', ['securityEvent.code in ["rate_limited", "ip_blocked"]']),
    ];
  }
}
