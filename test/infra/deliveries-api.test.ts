import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { READER_DEADLINE, READER_TIMEOUT_SECONDS } from '../../core/reader/deadline.js';
import { READER_DEFAULTS } from '../../core/reader/settings.js';
import { DELIVERIES_BY_TIME, RATE_LIMITS_KEYS, READER_LIMIT_KEYS } from '../../core/stores/tables.js';
import { outputKey } from '../../lib/stack-outputs.js';
import { prodSettings, synth } from './helpers.js';

const { stack, template } = synth(prodSettings());
const t = template();
const json = t.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const resources = Object.entries(json.Resources);
const idOf = (construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId((construct.node.defaultChild ?? construct) as never);

/** The path of an API Gateway resource, from its PathPart chain. */
const pathOf = (ref: unknown): string => {
  const id = (ref as { Ref?: string }).Ref;
  if (!id) return '';
  const resource = json.Resources[id];
  if (resource?.Type !== 'AWS::ApiGateway::Resource') return '';
  return `${pathOf(resource.Properties.ParentId)}/${String(resource.Properties.PathPart)}`;
};
const methods = resources
  .filter(([, r]) => r.Type === 'AWS::ApiGateway::Method')
  .map(([, r]) => ({
    path: pathOf(r.Properties.ResourceId),
    method: r.Properties.HttpMethod as string,
    integration: r.Properties.Integration as Record<string, unknown>,
  }));
const uriText = (integration: Record<string, unknown>): string => JSON.stringify(integration.Uri);

/** Every statement of a role's policies. */
const statementsOf = (roleId: string): Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> =>
  resources
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
    .flatMap(
      ([, r]) =>
        (r.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> })
          .Statement,
    );
const dynamoActions = (roleId: string): string[] =>
  statementsOf(roleId)
    .flatMap((s) => [s.Action].flat())
    .filter((a) => a.startsWith('dynamodb:'));

describe('the deliveries API in the synthesized stack', () => {
  const api = stack.deliveriesApi as NonNullable<typeof stack.deliveriesApi>;
  const readerId = idOf(api.reader);
  const eventsId = idOf(api.events);

  it('adds GET and OPTIONS for /deliveries, /deliveries/{source}/{id} and /events', () => {
    const routes = methods.map((m) => `${m.method} ${m.path}`);
    for (const path of ['/deliveries', '/deliveries/{source}/{id}', '/events']) {
      expect(routes).toContain(`GET ${path}`);
      expect(routes).toContain(`OPTIONS ${path}`);
    }
    // ANY is the 405 mock (test/infra/method-not-allowed.test.ts).
    const proxied = methods.filter((m) => m.method !== 'ANY');
    for (const m of proxied.filter((m) => m.path.startsWith('/deliveries') || (m.path === '/events' && m.method === 'OPTIONS'))) {
      expect(uriText(m.integration), `${m.method} ${m.path}`).toContain(readerId);
      expect(uriText(m.integration)).toContain('/invocations');
      expect(m.integration.ResponseTransferMode ?? 'BUFFERED').toBe('BUFFERED');
    }
  });

  it('streams GET /events: ResponseTransferMode STREAM, the response-streaming invocation path, a 15-minute integration timeout', () => {
    const events = methods.find((m) => m.method === 'GET' && m.path === '/events');
    expect(events?.integration).toMatchObject({ Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM', TimeoutInMillis: 900_000 });
    expect(uriText(events?.integration ?? {})).toContain('/response-streaming-invocations');
    expect(uriText(events?.integration ?? {})).toContain(eventsId);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': [idOf(api.eventsRole), 'Arn'] },
    });
  });

  // The reader answers its own 503 by a deadline derived from its timeout: a timeout set here alone, or a budget
  // set there alone, would let a slow store run into the function's end (API Gateway's 502/504) again.
  it('gives the reader function the timeout its request deadline is derived from, with the deadline, the late answer and the margin inside it', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: READER_TIMEOUT_SECONDS,
      Role: { 'Fn::GetAtt': [idOf(api.readerRole), 'Arn'] },
    });
    expect(READER_DEFAULTS.requestBudgetMs).toBe(READER_DEADLINE.budgetMs);
    expect(READER_DEADLINE.budgetMs + READER_DEADLINE.marginMs).toBeLessThanOrEqual(READER_TIMEOUT_SECONDS * 1000);
    expect(READER_DEADLINE.lateAnswerMs).toBeLessThan(READER_DEADLINE.marginMs);
  });

  it('grants the reader and events functions read-only access: no write on deliveries, exact resources', () => {
    for (const role of [api.readerRole, api.eventsRole]) {
      const actions = dynamoActions(idOf(role));
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
      for (const write of ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan'])
        expect(actions).not.toContain(write);
      const statements = statementsOf(idOf(role)).filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
      for (const s of statements) expect(JSON.stringify(s.Resource)).not.toContain('*');
      const deliveries = idOf(stack.tables.deliveries);
      const onDeliveries = statements.filter((s) => JSON.stringify(s.Resource).includes(deliveries));
      expect(new Set(onDeliveries.flatMap((s) => [s.Action].flat()))).toEqual(
        new Set(role === api.readerRole ? ['dynamodb:GetItem', 'dynamodb:Query'] : ['dynamodb:Query']),
      );
      const query = onDeliveries.find((s) => [s.Action].flat().includes('dynamodb:Query'));
      expect(JSON.stringify(query?.Resource)).toContain(`/index/${DELIVERIES_BY_TIME.name}`);
      const tokenUpdate = statements.find(
        (s) => JSON.stringify(s.Resource).includes(idOf(stack.tables.tokens)) && [s.Action].flat().includes('dynamodb:UpdateItem'),
      );
      expect(tokenUpdate?.Condition).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'lastUsedAt'] },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      });
    }
  });

  it('lets no API function rewrite the containment item (blocklist, disabled sources): UpdateItem of counters only', () => {
    const rateLimits = idOf(stack.tables.rateLimits);
    /** Whether a role's UpdateItem on the rate-limits table may reach the item with partition key `pk`. */
    const mayUpdate = (roleId: string, pk: string): boolean =>
      statementsOf(roleId)
        .filter((s) => JSON.stringify(s.Resource).includes(rateLimits) && [s.Action].flat().includes('dynamodb:UpdateItem'))
        .some((s) => {
          if (s.Condition === undefined) return true;
          const { 'ForAllValues:StringLike': like, ...other } = s.Condition as Record<string, Record<string, string[]>>;
          expect(other, 'only a LeadingKeys condition is evaluated here').toEqual({});
          const patterns = like?.['dynamodb:LeadingKeys'] ?? [];
          // StringLike with one trailing `*` (a key prefix) is all this evaluates.
          return patterns.some((p) => (p.indexOf('*') === p.length - 1 ? pk.startsWith(p.slice(0, -1)) : pk === p));
        });
    // The item `hookwarden block` / `disable` write (core/stores/controls-store.ts), and the counters each function keeps.
    const { controls, counterPrefix } = RATE_LIMITS_KEYS;
    const counter = (key: string) => `${counterPrefix}${key}`;
    for (const role of [api.readerRole, api.eventsRole]) {
      expect(mayUpdate(idOf(role), controls), 'controls').toBe(false);
      expect(mayUpdate(idOf(role), counter('source:stripe')), "a webhook source's counter").toBe(false);
    }
    expect(mayUpdate(idOf(api.readerRole), counter(`${READER_LIMIT_KEYS.token}3f9c0a7e51d2b846`))).toBe(true);
    expect(mayUpdate(idOf(api.eventsRole), counter(`${READER_LIMIT_KEYS.token}3f9c0a7e51d2b846`))).toBe(true);
    expect(mayUpdate(idOf(api.eventsRole), counter(`${READER_LIMIT_KEYS.stream}3f9c0a7e51d2b846`))).toBe(true);
    // The read budget, charged by lists (reader) and streams (events).
    for (const role of [api.readerRole, api.eventsRole])
      expect(mayUpdate(idOf(role), counter(`${READER_LIMIT_KEYS.read}3f9c0a7e51d2b846`)), 'read budget').toBe(true);
    const webhookRole = idOf(stack.functions.webhookRole);
    expect(mayUpdate(webhookRole, controls), 'controls').toBe(false);
    expect(mayUpdate(webhookRole, counter('source:stripe'))).toBe(true);
  });

  it('creates the tokens table and the byTime index from the shared definitions, and outputs the tokens table', () => {
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byTime',
          KeySchema: [
            { AttributeName: 'feed', KeyType: 'HASH' },
            { AttributeName: 'seq', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DELIVERIES_BY_TIME.include] },
        }),
      ],
    });
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    t.hasOutput(outputKey('tokensTable'), { Value: { Ref: idOf(stack.tables.tokens) } });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [idOf(api.readerRole), 'Arn'] },
      Environment: {
        Variables: Match.objectLike({
          TOKENS_TABLE_NAME: { Ref: idOf(stack.tables.tokens) },
          CORS_ORIGINS: 'https://app.example.com',
          NODE_ENV: 'production',
        }),
      },
    });
  });
});
