import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, DeploymentRefused } from '../../lib/app.js';
import { readSettings } from '../../lib/settings.js';
import { HTTP_API_FRONT_DOOR, outputKey } from '../../lib/stack-outputs.js';
import { NO_BUNDLING, prodSettings, settingsFor, synth } from './helpers.js';

const SAFE_PROD = { stage: 'prod', alarmEmail: 'ops@example.com', corsOrigins: 'https://app.example.com' };
const REASON = 'The HTTP API cannot carry a WAF; the app-level allowlist, blocklist, rate limits and signature check apply (test).';
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The problems `cdk synth` would refuse with (in-process; nothing is bundled; no config file). */
const refusal = (context: Record<string, unknown>): readonly string[] => {
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-door-'));
  dirs.push(dir);
  try {
    createApp({ appProps: { context: { ...NO_BUNDLING, ...context } }, env: {}, cwd: dir });
  } catch (error) {
    if (error instanceof DeploymentRefused) return error.problems;
    throw error;
  }
  return [];
};

const logicalId = (template: Template, type: string): string => {
  const ids = Object.keys(template.findResources(type));
  expect(ids, type).toHaveLength(1);
  return ids[0] as string;
};

describe('context frontDoor', () => {
  it('defaults to rest in every stage', () => {
    for (const stage of ['dev', 'prod']) {
      expect(readSettings((key) => ({ stage })[key], {}, mkdtempSync(join(tmpdir(), 'hookwarden-door-'))).settings.frontDoor).toBe('rest');
    }
    const rest = synth(settingsFor()).template();
    rest.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    rest.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
  });

  it('refuses anything but rest or http-api, naming the key', () => {
    expect(refusal({ frontDoor: 'cloudfront' })).toEqual([expect.stringMatching(/^context frontDoor: must be "rest" or "http-api"/)]);
  });

  it('in prod, http-api without wafDisabledReason is refused naming WAF; with it, accepted', () => {
    expect(refusal({ ...SAFE_PROD, frontDoor: 'http-api' })).toEqual([
      expect.stringMatching(/^WAF: frontDoor=http-api cannot carry a WAF: acknowledge .*wafDisabledReason/),
    ]);
    expect(refusal({ ...SAFE_PROD, frontDoor: 'http-api', wafDisabledReason: REASON })).toEqual([]);
    // The REST default still ships with WAF and needs no acknowledgement.
    expect(refusal(SAFE_PROD)).toEqual([]);
  });

  it('refuses what an HTTP API cannot do: a WAF, X-Ray tracing', () => {
    expect(refusal({ frontDoor: 'http-api', wafEnabled: 'true' })).toEqual([
      expect.stringMatching(/^context wafEnabled: an HTTP API .*cannot carry a WAF/),
    ]);
    expect(refusal({ frontDoor: 'http-api', wafRateLimit: '2000' })).toEqual([
      expect.stringMatching(/^context wafRateLimit: is set, but an HTTP API .*has no WAF/),
    ]);
    expect(refusal({ frontDoor: 'http-api', tracing: 'true' })).toEqual([
      expect.stringMatching(/^context tracing: an HTTP API .*no X-Ray tracing/),
    ]);
  });
});

describe('frontDoor=http-api: the template', () => {
  let template: Template;
  beforeAll(() => {
    template = synth(prodSettings({ frontDoor: 'http-api', wafEnabled: false, wafDisabledReason: REASON })).template();
  });

  it('creates an HTTP API and no REST API, no WAF', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', Name: 'Hookwarden-prod' });
    // No CORS configuration: API Gateway would answer preflights itself instead of the function's exact-origin match.
    expect(Object.values(template.findResources('AWS::ApiGatewayV2::Api'))[0]?.Properties?.CorsConfiguration).toBeUndefined();
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGateway::Stage', 0);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    for (const type of ['AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation', 'AWS::WAFv2::IPSet']) template.resourceCountIs(type, 0);
  });

  it('serves the webhook and health routes and nothing else (the deliveries API is REST-only)', () => {
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(['GET /health', 'GET /health/ready', 'OPTIONS /webhooks/{source}', 'POST /webhooks/{source}']);
  });

  it('integrates both functions as Lambda proxies with payload format 1.0 (the REST proxy event shape)', () => {
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(2);
    for (const integration of integrations)
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '1.0' });
    const targets = integrations.map((i) => JSON.stringify(i.Properties.IntegrationUri));
    expect(targets.some((t) => t.includes('FunctionsWebhook'))).toBe(true);
    expect(targets.some((t) => t.includes('FunctionsHealth'))).toBe(true);
    // Each route may invoke its function (one permission per route).
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }),
    );
    expect(permissions).toHaveLength(4);
  });

  it('throttles the $default stage as the REST stage (100/s, burst 200; readiness 10/s) and auto-deploys it', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      RouteSettings: { 'GET /health/ready': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } },
    });
  });

  it('writes JSON access logs to its own log group, kept three months and retained in prod', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]?.Properties;
    const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith('HttpApiAccessLogs'));
    expect(logGroup).toBeDefined();
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
    const format = JSON.parse(stage.AccessLogSettings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    expect(template.findResources('AWS::Logs::LogGroup')[logGroup as string]).toMatchObject({
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('logs request metadata only: no header, query string, body or authorizer variable (signatures, tokens, bodies)', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]?.Properties;
    const format = stage.AccessLogSettings.Format as string;
    const variables = [...format.matchAll(/\$[A-Za-z][\w.]*/g)].map((m) => m[0]);
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) {
      expect(variable, variable).toMatch(/^\$context\./);
      expect(variable, variable).not.toMatch(/header|body|input|query|authorizer|request\.|stageVariables/i);
    }
  });

  it("alarms on and graphs the HTTP API's own 5xx metric", () => {
    const apiId = logicalId(template, 'AWS::ApiGatewayV2::Api');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Hookwarden-prod-Api5xx',
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
    });
    const dashboard = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody);
    expect(dashboard).toContain('\\"5xx\\"');
    expect(dashboard).toContain('\\"4xx\\"');
    expect(dashboard).not.toContain('5XXError');
  });

  it('alarms on throttles of the deliveries and rate-limits tables only: nothing reads the tokens table without the deliveries API', () => {
    const throttled = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => JSON.stringify(alarm.Properties))
      .filter((properties) => properties.includes('"WriteThrottleEvents"'));
    expect(throttled).toHaveLength(2);
    expect(throttled.join()).not.toMatch(/"Ref":"TablesTokens/);
  });

  it('names its front door in an output, so that the CLI can say there is no deliveries API; a REST stack has none', () => {
    template.hasOutput(outputKey('frontDoor'), { Value: HTTP_API_FRONT_DOOR });
    const rest = synth(settingsFor()).template();
    expect(Object.keys(rest.findOutputs(outputKey('frontDoor')))).toEqual([]);
    expect(Object.keys(rest.findOutputs(outputKey('apiUrl')))).toEqual(['ApiUrl']);
  });

  it('keeps the API URL output key the CLI reads, pointing at the $default stage', () => {
    const outputs = template.findOutputs(outputKey('apiUrl'));
    expect(Object.keys(outputs)).toEqual(['ApiUrl']);
    const value = JSON.stringify(outputs.ApiUrl?.Value);
    expect(value).toContain(logicalId(template, 'AWS::ApiGatewayV2::Api'));
    expect(value).toMatch(/\/"\]\]\}$/);
    template.hasOutput(outputKey('webhookUrl', 'default'), { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    // No WAF, so no IP set outputs.
    expect(template.findOutputs(outputKey('blockedIpv4Set'))).toEqual({});
  });
});
