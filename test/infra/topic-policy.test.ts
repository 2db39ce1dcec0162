import { describe, expect, it } from 'vitest';
import { resolveIntrinsics, likeMatches, PSEUDO } from './intrinsics.js';
import { prodSettings, settingsFor, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = {
  Effect: string;
  Principal: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Resources as a deployed account sees them: a reference is the resource's ARN-ish name. */
const resolved = (resources: Record<string, Resource>, value: unknown): unknown =>
  resolveIntrinsics(value, (id, attribute) => {
    const resource = resources[id];
    if (attribute === 'Arn' && resource?.Type === 'AWS::Events::Rule')
      return `arn:aws:events:${PSEUDO['AWS::Region']}:${PSEUDO['AWS::AccountId']}:rule/${id}`;
    return attribute ? `${id}.${attribute}` : id;
  });

/** What each kind of resource that publishes to a topic looks like: the service, and the ARN the publish comes from. */
const publishersOf = (resources: Record<string, Resource>, topic: string): Array<{ what: string; service: string; sourceArn: string }> =>
  Object.entries(resources).flatMap(([id, resource]) => {
    const text = JSON.stringify(resource.Properties ?? {});
    if (!text.includes(`{"Ref":"${topic}"}`) || resource.Type === 'AWS::SNS::TopicPolicy' || resource.Type === 'AWS::SNS::Subscription')
      return [];
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const name = resource.Properties.AlarmName as string;
      return [
        { what: `alarm ${id}`, service: 'cloudwatch.amazonaws.com', sourceArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}` },
      ];
    }
    if (resource.Type === 'AWS::Events::Rule') {
      return [
        { what: `rule ${id}`, service: 'events.amazonaws.com', sourceArn: resolved(resources, { 'Fn::GetAtt': [id, 'Arn'] }) as string },
      ];
    }
    // A new kind of publisher (S3 notifications, a Lambda destination, ...) must be taught here and allowed in the policy.
    throw new Error(`${resource.Type} ${id} refers to the alarm topic: which service publishes for it?`);
  });

/** Whether one statement lets `service` publish from `sourceArn` in this account (IAM condition semantics, the operators the stack uses). */
const allows = (statement: Statement, topic: string, service: string, sourceArn: string): boolean => {
  if (statement.Effect !== 'Allow' || JSON.stringify(statement.Principal) !== JSON.stringify({ Service: service })) return false;
  if (![statement.Action].flat().includes('sns:Publish') || statement.Resource !== topic) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = key === 'aws:SourceAccount' ? PSEUDO['AWS::AccountId'] : key === 'aws:SourceArn' ? sourceArn : undefined;
      if (actual === undefined) return false;
      const values = [expected].flat() as string[];
      if (operator === 'StringEquals' || operator === 'ArnEquals') return values.includes(actual);
      if (operator === 'StringLike' || operator === 'ArnLike') return values.some((v) => likeMatches(v, actual));
      return false;
    }),
  );
};

describe.each([
  ['prod', prodSettings()],
  ['dev', settingsFor()],
])('the alarm topic policy (%s)', (_stage, settings) => {
  const resources = synth(settings).template().toJSON().Resources as Record<string, Resource>;
  const topics = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::SNS::Topic')
    .map(([id]) => id);
  const policyOf = (topic: string): Statement[] => {
    const policies = Object.values(resources).filter(
      (r) => r.Type === 'AWS::SNS::TopicPolicy' && JSON.stringify(r.Properties.Topics) === JSON.stringify([{ Ref: topic }]),
    );
    expect(policies, `exactly one policy on ${topic}`).toHaveLength(1);
    return resolved(resources, (policies[0]?.Properties.PolicyDocument as { Statement: unknown }).Statement) as Statement[];
  };

  it('is the only topic, and every alarm notifies it', () => {
    expect(topics).toHaveLength(1);
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topics[0] }]);
  });

  it('lets every publisher wired to the topic publish, scoped to this account and to that publisher (a custom policy replaces the default one)', () => {
    for (const topic of topics) {
      const statements = policyOf(topic);
      const publishers = publishersOf(resources, topic);
      expect(publishers.map((p) => p.service)).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'events.amazonaws.com']));
      for (const publisher of publishers) {
        expect(
          statements.some((s) => allows(s, topic, publisher.service, publisher.sourceArn)),
          `${publisher.what} may not publish to ${topic}`,
        ).toBe(true);
      }
      // Scoped: another account's alarm, or an alarm of another stack, may not publish.
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        expect(statement.Condition, JSON.stringify(statement)).toBeDefined();
        expect(
          allows(statement, topic, 'cloudwatch.amazonaws.com', 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:SomeoneElses-Alarm'),
        ).toBe(false);
        expect(allows(statement, topic, 'events.amazonaws.com', 'arn:aws:events:us-east-1:123456789012:rule/SomeoneElses')).toBe(false);
      }
    }
  });

  it("lets CloudWatch and EventBridge use the topic's key for this account's topics only, and CloudWatch for this stack's alarms only", () => {
    const keyId = (resources[topics[0] as string]?.Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policy = resolved(resources, (resources[keyId]?.Properties.KeyPolicy as { Statement: unknown }).Statement) as Statement[];
    const ours = 'arn:aws:sns:us-east-1:123456789012:Hookwarden-alarms';
    const theirs = 'arn:aws:sns:us-east-1:999999999999:their-topic';
    /** Whether a statement lets `service` use the key for a publish to `topic` from `sourceArn` (of `account`). */
    const keyAllows = (statement: Statement, service: string, topic: string, sourceArn: string, account = PSEUDO['AWS::AccountId']) =>
      statement.Effect === 'Allow' &&
      JSON.stringify(statement.Principal) === JSON.stringify({ Service: service }) &&
      ['kms:Decrypt', 'kms:GenerateDataKey*'].every((action) => [statement.Action].flat().includes(action)) &&
      Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => {
          const actual = { 'aws:SourceAccount': account, 'aws:SourceArn': sourceArn, 'kms:EncryptionContext:aws:sns:topicArn': topic }[key];
          if (actual === undefined) return false;
          const values = [expected].flat() as string[];
          if (operator === 'StringEquals' || operator === 'ArnEquals') return values.includes(actual);
          if (operator === 'StringLike' || operator === 'ArnLike') return values.some((v) => likeMatches(v, actual));
          return false;
        }),
      );
    for (const publisher of publishersOf(resources, topics[0] as string)) {
      expect(
        policy.some((s) => keyAllows(s, publisher.service, ours, publisher.sourceArn)),
        `${publisher.what} may not use the key`,
      ).toBe(true);
      // Another account's topic set to this key: neither service may use it for that one (confused deputy).
      expect(policy.some((s) => keyAllows(s, publisher.service, theirs, publisher.sourceArn))).toBe(false);
    }
    // CloudWatch passes its alarm's account and ARN: another account's alarm, or another stack's, may not use the key.
    const otherAlarm = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:SomeoneElses-Alarm';
    expect(policy.some((s) => keyAllows(s, 'cloudwatch.amazonaws.com', ours, otherAlarm))).toBe(false);
    const ownAlarm = publishersOf(resources, topics[0] as string).find((p) => p.service === 'cloudwatch.amazonaws.com')
      ?.sourceArn as string;
    expect(policy.some((s) => keyAllows(s, 'cloudwatch.amazonaws.com', ours, ownAlarm, '999999999999'))).toBe(false);
  });

  it('still refuses every publish without TLS', () => {
    for (const topic of topics) {
      expect(policyOf(topic)).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Resource: topic,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});
