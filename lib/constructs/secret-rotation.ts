import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule, type EventPattern } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal, type IRole, type Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Secret, type ISecret, type RotationSchedule } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { rotationFromDescription, type RotationConfig } from '../../core/config/rotation.js';
import { KEY_AGE_METRIC, KEY_AGE_SOURCES_FILE, rotateCommandFor, type AgedSource } from '../../core/secrets/key-age.js';
import { ROTATION_SOURCES_FILE, type RotatedSource } from '../../core/secrets/rotation-function.js';
import { CURRENT_SINCE_TAG, PROMOTION_WITHIN_SECONDS } from '../../core/secrets/rotation.js';
import { DIMENSION, metricsEnvironment, type MetricsIdentity } from '../../core/telemetry.js';
import { Problems } from '../../core/config/rules.js';
import { ConfigError } from '../../core/errors.js';
import { acknowledge } from '../nag.js';
import { booleanProp, durationSecondsProp } from './prop-checks.js';
import { EVENT_PATTERN_MAX_CHARACTERS, eventPatternSize, secretArnOf, secretIdPatterns } from './secret-audit.js';
import type { DeployedSource } from '../settings.js';
import { ownFunction } from './function-defaults.js';
import { SecurityAlarms, topicKeyStatement, topicStatementSid } from './security-alarms.js';
import { grantSecretKey, secretPropsProblems } from './source-secrets.js';
import { claimPhysicalName } from './physical-names.js';

/** Props of {@link SecretRotation}. */
export interface SecretRotationProps {
  readonly sources: readonly DeployedSource[];
  /** Each source's secret, by source name. */
  readonly secrets: ReadonlyMap<string, ISecret>;
  /** What the functions pass as `SecretId` (a name known at synth, or a complete ARN), by source name. */
  readonly secretIds: ReadonlyMap<string, string>;
  /** Every alarm and the rotation-failed rule notify it. */
  readonly topic: ITopic;
  /** The topic's key: EventBridge may use it to publish. */
  readonly topicKey: IKey;
  /** Alarms are named `<alarmNamePrefix>-<id>` (the topic admits exactly these). */
  readonly alarmNamePrefix: string;
  /** The stack the on-call passes to `hookwarden rotate --stack` (in this stack's region, which the command names). */
  readonly stackName: string;
  /** Where the key-age metric goes (the functions' namespace and service). */
  readonly metrics: MetricsIdentity;
  /** The webhook function's key cache period: a staged key is switched to only after it. @default Duration.minutes(5) */
  readonly secretCache?: Duration;
  /** @default false */
  readonly production?: boolean;
  /** The REST API of `github` rotations (GitHub Enterprise Server), given to the rotation function as `HOOKWARDEN_GITHUB_API_URL`. @default https://api.github.com */
  readonly githubApiUrl?: string;
  /**
   * Reserve the rotation function one concurrent execution per `github` or `shared` source: a flood on other functions
   * of the account (the deliveries API's, another stack's) can then never throttle a rotation step, and the cap never
   * throttles one either, as Secrets Manager runs one step of a secret at a time and refuses a second rotation of a
   * secret while one is pending. Carved out of the account's pool, as the webhook function's reservation is: the stack
   * sets it when that one is set (context `reservedConcurrency`). @default false
   */
  readonly reserveConcurrency?: boolean;
}

const rotationOf = (source: DeployedSource): RotationConfig => rotationFromDescription(source.rotation, source.scheme);

/** The name in a complete secret ARN (without the 6-character suffix), or the id itself when it is a name. */
const secretNameOf = (secretId: string): string =>
  /^arn:/.test(secretId) ? secretId.replace(/^arn:[^:]+:secretsmanager:[^:]+:\d+:secret:/, '').replace(/-[A-Za-z0-9]{6}$/, '') : secretId;

/**
 * The most secrets one TagResource statement of the rotation role lists: CDK counts 150 characters per secret ARN
 * when it spreads a role's statements over its inline and managed policies (6,000 at most each, under IAM's 6,144),
 * and it cannot split one statement.
 */
export const TAG_GRANT_SECRETS = 30;

/**
 * How a CloudTrail `RotationFailed` event may name one of the stack's secrets in
 * `detail.additionalEventData.SecretId` (the complete ARN in the events seen):
 * as the secret audit matches reads ({@link secretIdPatterns}), any name or ARN
 * under the stack's `<stackName>/` prefix, and each imported ARN (complete,
 * partial, or its name); other names the stack was given, by name or ARN prefix.
 * The prefixes keep the pattern's size the same whatever the number of sources:
 * EventBridge refuses a pattern over 2,048 characters at deploy.
 */
export const rotationFailedSecretIds = (stack: Stack, stackName: string, secretIds: readonly string[]): unknown[] => {
  const imported = secretIds.filter((id) => /^arn:/.test(id));
  const otherNames = secretIds.filter((id) => !/^arn:/.test(id) && !id.startsWith(`${stackName}/`));
  return [...secretIdPatterns(stack, stackName, imported), ...otherNames.flatMap((name) => [name, { prefix: secretArnOf(stack, name) }])];
};

/**
 * Rotation schedules where the provider allows them, due-date alarms where it
 * does not. `github` and `shared` sources get an `AWS::SecretsManager::RotationSchedule`
 * every `every` with one rotation function (functions/rotation/handler.ts),
 * allowed only their secrets and the GitHub token secrets; `manual` sources get
 * a daily key-age metric and an alarm past `every` naming the source and the
 * `hookwarden rotate` command. Rotation function errors and Secrets Manager's
 * `RotationFailed` events notify the alarm topic.
 */
export class SecretRotation extends Construct {
  /** The rotation function; absent without `github` or `shared` sources. */
  public readonly rotationFunction?: NodejsFunction;
  /** The daily key-age check; absent without `manual` sources. */
  public readonly keyAgeFunction?: NodejsFunction;
  /** One schedule per `github` or `shared` source, by source name. */
  public readonly schedules: ReadonlyMap<string, RotationSchedule>;
  /** Key due (per manual source), function errors. */
  public readonly alarms: readonly IAlarm[];
  /** Secrets Manager's `RotationFailed` events, to the topic. */
  public readonly rotationFailed: Rule;
  /** The roles of the functions above, which read the sources' secrets by design: the secret-read audit expects them. */
  public readonly secretReaders: readonly IRole[];
  /** What the rotation function's bundle ships as {@link ROTATION_SOURCES_FILE}: one entry per `github` or `shared` source. */
  public readonly rotatedSources: readonly RotatedSource[];
  /** What the key-age check's bundle ships as {@link KEY_AGE_SOURCES_FILE}: one entry per `manual` source. */
  public readonly agedSources: readonly AgedSource[];

  constructor(scope: Construct, id: string, props: SecretRotationProps) {
    super(scope, id);
    // The rotation function's own range for WEBHOOK_SECRET_CACHE_SECONDS (secretCacheSecondsOf): outside it, every rotation fails.
    const problems = new Problems();
    problems.items.push(...secretPropsProblems(props.secrets, props.secretIds));
    durationSecondsProp(problems, 'secretCache', props.secretCache, 1, 86_400);
    booleanProp(problems, 'production', props.production);
    booleanProp(problems, 'reserveConcurrency', props.reserveConcurrency);
    // The alarm topic's policy admits `<its prefix>-*` alarms only: SNS would refuse every notification of these alarms,
    // on AWS only and silently (a rotation failing, a key due, with no page).
    const topicOf = props.topic.node.scope;
    if (topicOf instanceof SecurityAlarms && !`${props.alarmNamePrefix}-`.startsWith(`${topicOf.alarmNamePrefix}-`))
      problems.add(
        'alarmNamePrefix',
        `"${props.alarmNamePrefix}" names alarms the topic refuses: ${topicOf.node.path} admits only alarms named "${topicOf.alarmNamePrefix}-…" (its alarmNamePrefix)`,
      );
    if (problems.items.length > 0) throw new ConfigError(problems.items);
    const production = props.production ?? false;
    const alarms: IAlarm[] = [];
    const schedules = new Map<string, RotationSchedule>();
    const action = new SnsAction(props.topic);
    const withSecret = props.sources.filter((s) => props.secrets.has(s.name) && props.secretIds.has(s.name));
    const rotated = withSecret.filter((s) => rotationOf(s).mode === 'github' || rotationOf(s).mode === 'shared');
    const manual = withSecret.filter((s) => rotationOf(s).mode === 'manual');

    // The source lists grow with the number of sources: they ship in the bundle, the environment only names the file.
    const make = (
      name: string,
      entry: string,
      environment: Record<string, string>,
      timeout: Duration,
      files: Record<string, string>,
      reservedConcurrentExecutions?: number,
    ): NodejsFunction => {
      const { fn } = ownFunction(this, name, {
        description: `Hookwarden ${name} function`,
        production,
        entry,
        timeout,
        environment: { ...environment, ...metricsEnvironment(props.metrics), NODE_OPTIONS: '--enable-source-maps' },
        files,
        ...(reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions } : {}),
      });
      claimPhysicalName(this, 'alarm name', `${props.alarmNamePrefix}-${name}Errors`, 'alarmNamePrefix');
      const errors = new Alarm(this, `${name}Errors`, {
        alarmName: `${props.alarmNamePrefix}-${name}Errors`,
        alarmDescription: `The ${name} function failed (Secrets Manager retries a rotation step, then reports RotationFailed): read its log group for the step and the reason.`,
        metric: fn.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      errors.addAlarmAction(action);
      alarms.push(errors);
      return fn;
    };

    this.rotatedSources = rotated.map((s): RotatedSource => {
      const rotation = rotationOf(s);
      return {
        source: s.name,
        secretName: secretNameOf(props.secretIds.get(s.name) as string),
        scheme: s.scheme,
        mode: rotation.mode as RotatedSource['mode'],
        overlapSeconds: rotation.overlapSeconds,
        ...(rotation.github ? { github: rotation.github } : {}),
        ...(rotation.tokenSecretArn ? { tokenSecretArn: rotation.tokenSecretArn } : {}),
      };
    });
    this.agedSources = manual.map((s) => ({ source: s.name, secretId: props.secretIds.get(s.name) as string }));

    if (rotated.length > 0) {
      // A ping is awaited up to 30 s in testSecret.
      const fn = make(
        'Rotation',
        'functions/rotation/handler',
        {
          HOOKWARDEN_ROTATION_SOURCES_FILE: ROTATION_SOURCES_FILE,
          WEBHOOK_SECRET_CACHE_SECONDS: String((props.secretCache ?? Duration.minutes(5)).toSeconds()),
          ...(props.githubApiUrl ? { HOOKWARDEN_GITHUB_API_URL: props.githubApiUrl } : {}),
        },
        // finishSecret's tag ahead of the label move counts on the move happening within the invocation.
        Duration.seconds(PROMOTION_WITHIN_SECONDS),
        { [ROTATION_SOURCES_FILE]: `${JSON.stringify(this.rotatedSources)}\n` },
        props.reserveConcurrency ? rotated.length : undefined,
      );
      this.rotationFunction = fn;
      const tokens = new Set<string>();
      for (const source of rotated) {
        const rotation = rotationOf(source);
        const secret = props.secrets.get(source.name) as ISecret;
        // A rotation reads the current version and writes the next.
        grantSecretKey(fn, source, true);
        // Grants the function DescribeSecret, GetSecretValue, PutSecretValue and UpdateSecretVersionStage on this secret, and Secrets Manager the invoke.
        schedules.set(
          source.name,
          secret.addRotationSchedule(`${source.name}Rotation`, {
            rotationLambda: fn,
            automaticallyAfter: Duration.seconds(rotation.everySeconds),
          }),
        );
        if (rotation.tokenSecretArn && !tokens.has(rotation.tokenSecretArn)) {
          tokens.add(rotation.tokenSecretArn);
          Secret.fromSecretCompleteArn(this, `${source.name}GitHubToken`, rotation.tokenSecretArn).grantRead(fn);
        }
      }
      // The schedules' grantInvoke lets secretsmanager.amazonaws.com invoke the function for any account: another account's
      // Secrets Manager could be pointed at it (each call refused, and paging this stack's RotationErrors alarm). This account only.
      for (const child of fn.node.findAll())
        if (child instanceof CfnPermission && child.principal === 'secretsmanager.amazonaws.com')
          child.sourceAccount = Stack.of(this).account;
      // finishSecret records when it made a version current in one tag (core/secrets/secrets-manager-store.ts): that tag
      // only, on the rotated secrets. A statement per TAG_GRANT_SECRETS secrets, not per secret (each statement adds to the
      // role's policy size) nor one for all (CDK cannot split a statement, and IAM stores at most 6,144 characters per managed policy).
      const arns = rotated.map((source) => (props.secrets.get(source.name) as ISecret).secretArn);
      for (let start = 0; start < arns.length; start += TAG_GRANT_SECRETS) {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['secretsmanager:TagResource'],
            resources: arns.slice(start, start + TAG_GRANT_SECRETS),
            conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [CURRENT_SINCE_TAG] } },
          }),
        );
      }
      acknowledge(
        fn.role as Role,
        'AwsSolutions-IAM5[Resource::*]',
        'Only secretsmanager:GetRandomPassword is on "*" (a test asserts it): the CDK RotationSchedule adds it for every rotation function, and GetRandomPassword reads no resource (it returns random bytes), so it has no resource to scope to. The function makes its keys with node:crypto.',
      );
    }

    if (manual.length > 0) {
      const fn = make(
        'KeyAge',
        'functions/key-age/handler',
        { HOOKWARDEN_KEY_AGE_SOURCES_FILE: KEY_AGE_SOURCES_FILE },
        Duration.seconds(30),
        { [KEY_AGE_SOURCES_FILE]: `${JSON.stringify(this.agedSources)}\n` },
      );
      this.keyAgeFunction = fn;
      for (const source of manual) {
        (props.secrets.get(source.name) as ISecret).grantRead(fn);
        grantSecretKey(fn, source);
      }
      new Rule(this, 'DailyKeyAge', {
        description: 'Hookwarden: the daily key-age check of manual sources',
        schedule: Schedule.rate(Duration.days(1)),
        targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
      });
      for (const source of manual) {
        const rotation = rotationOf(source);
        claimPhysicalName(this, 'alarm name', `${props.alarmNamePrefix}-KeyDue-${source.name}`, 'alarmNamePrefix');
        const due = new Alarm(this, `KeyDue${source.name}`, {
          alarmName: `${props.alarmNamePrefix}-KeyDue-${source.name}`,
          alarmDescription: `Source "${source.name}": its current key is older than ${rotation.every} (rotation.every). Issue a new secret in the provider's dashboard, export it as NEW_SECRET, and run: ${rotateCommandFor(source.name, props.stackName, Stack.of(this).region)}`,
          metric: new Metric({
            namespace: props.metrics.namespace,
            metricName: KEY_AGE_METRIC,
            dimensionsMap: { [DIMENSION.service]: props.metrics.service, [DIMENSION.source]: source.name },
            statistic: 'Maximum',
            period: Duration.days(1),
          }),
          threshold: rotation.everySeconds,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          // A level published once a day, and the alarm is evaluated every minute over the last day: when a run comes a
          // little later than the one before (schedule jitter, a retry), the window holds no datapoint for a while. As
          // notBreaching, that gap turned a due key's alarm OK and then ALARM again, a fresh page at each daily check;
          // ignored, the state is kept between checks: ALARM from the first check that finds the key due until the first
          // one after the rotation. A check that did not run raises the KeyAge errors alarm instead.
          treatMissingData: TreatMissingData.IGNORE,
        });
        due.addAlarmAction(action);
        alarms.push(due);
      }
    }

    // Only this stack's secrets: another stack's failed rotation is not this on-call's page. Where the event names its
    // secret (additionalEventData.SecretId) it must be one of ours; an event that does not name it there (a shape not
    // seen before) still alerts: one alert too many, never a failure of ours missed.
    // Each imported secret (or one named outside the stack's prefix) is listed: with more than EventBridge's 2,048 characters
    // hold, the rule matches every RotationFailed in the account and region instead (one alert too many, never a failed deploy).
    const own = rotationFailedSecretIds(
      Stack.of(this),
      props.stackName,
      withSecret.map((s) => props.secretIds.get(s.name) as string),
    );
    const ours: EventPattern = {
      source: ['aws.secretsmanager'],
      detailType: ['AWS Service Event via CloudTrail'],
      detail: {
        eventName: ['RotationFailed'],
        $or: [{ additionalEventData: { SecretId: own } }, { additionalEventData: { SecretId: [{ exists: false }] } }],
      },
    };
    const fits = eventPatternSize(ours) <= EVENT_PATTERN_MAX_CHARACTERS;
    this.rotationFailed = new Rule(this, 'RotationFailed', {
      description: fits
        ? "Hookwarden: Secrets Manager reported a failed rotation of one of this stack's secrets"
        : 'Hookwarden: Secrets Manager reported a failed rotation (any secret: this stack names more than one pattern holds)',
      eventPattern: fits
        ? ours
        : { source: ['aws.secretsmanager'], detailType: ['AWS Service Event via CloudTrail'], detail: { eventName: ['RotationFailed'] } },
    });
    // As the audit rule: this rule only may publish to the topic.
    this.rotationFailed.addTarget({ bind: () => ({ arn: props.topic.topicArn }) });
    props.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: topicStatementSid(props.topic, 'AllowRotationFailedRule'),
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.rotationFailed.ruleArn } },
      }),
    );
    props.topicKey.addToResourcePolicy(topicKeyStatement(this, 'AllowRotationFailedRule', 'events.amazonaws.com'));
    this.schedules = schedules;
    this.alarms = alarms;
    this.secretReaders = [this.rotationFunction?.role, this.keyAgeFunction?.role].filter((role): role is IRole => role !== undefined);
  }
}
