import { describe, expect, it } from 'vitest';
import { prodSettings, settingsFor, synth } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Integration = {
  Type: string;
  Uri?: unknown;
  RequestTemplates: Record<string, string>;
  PassthroughBehavior: string;
  ContentHandling: string;
  IntegrationResponses: Array<{
    StatusCode: string;
    SelectionPattern?: string;
    ResponseParameters: Record<string, string>;
    ResponseTemplates: Record<string, string>;
  }>;
};

describe('a method no route serves, on the REST front door', () => {
  const resources = synth(prodSettings()).template().toJSON().Resources as Record<string, Resource>;
  const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    if (!id) return '';
    const resource = resources[id] as Resource;
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart as string}`;
  };
  const served = new Map<string, string[]>();
  for (const method of methods) {
    const path = pathOf(method.Properties.ResourceId);
    served.set(path, [...(served.get(path) ?? []), method.Properties.HttpMethod as string]);
  }

  it('is answered on every route the API serves: webhook, health and deliveries', () => {
    expect([...served.keys()].sort()).toEqual([
      '/deliveries',
      '/deliveries/{source}/{id}',
      '/events',
      '/health',
      '/health/ready',
      '/webhooks/{source}',
    ]);
    for (const [path, verbs] of served) expect(verbs, path).toContain('ANY');
  });

  it('405 method_not_allowed with Allow naming the methods the route serves, by API Gateway itself (a mock: no function runs)', () => {
    for (const method of methods.filter((m) => m.Properties.HttpMethod === 'ANY')) {
      const path = pathOf(method.Properties.ResourceId);
      const integration = method.Properties.Integration as Integration;
      expect(integration.Type, path).toBe('MOCK');
      expect(integration.Uri, path).toBeUndefined();
      expect(method.Properties.AuthorizationType).toBe('NONE');
      // Every body is binary (*/*): converted to text, so the template applies; a type it has no template for is refused (415), never passed on.
      expect(integration.ContentHandling).toBe('CONVERT_TO_TEXT');
      expect(integration.PassthroughBehavior).toBe('NEVER');
      expect(integration.RequestTemplates['application/json']).toBe('{"statusCode": 405}');
      expect(integration.IntegrationResponses).toHaveLength(1);
      const [answer] = integration.IntegrationResponses;
      expect(answer?.StatusCode).toBe('405');
      expect(answer?.SelectionPattern).toBeUndefined();
      const allow = served
        .get(path)!
        .filter((verb) => verb !== 'ANY')
        .sort();
      const header = answer?.ResponseParameters['method.response.header.Allow'] ?? '';
      expect(header, path).toMatch(/^'[A-Z, ]+'$/);
      expect(header.slice(1, -1).split(', ').sort(), path).toEqual(allow);
      expect(answer?.ResponseParameters).toMatchObject({
        'method.response.header.X-Content-Type-Options': "'nosniff'",
        'method.response.header.Cache-Control': "'no-store'",
      });
      const body = answer!.ResponseTemplates['application/json']!.replace('$context.requestId', 'f1e2d3c4-0000-4000-8000-000000000000');
      expect(JSON.parse(body)).toEqual({
        error: {
          code: 'method_not_allowed',
          message: expect.stringMatching(/^Only (POST|GET) is accepted here\.$/),
          requestId: 'f1e2d3c4-0000-4000-8000-000000000000',
        },
      });
      const declared = (method.Properties.MethodResponses as Array<{ StatusCode: string; ResponseParameters: Record<string, boolean> }>)[0];
      expect(declared?.StatusCode).toBe('405');
      expect(Object.keys(declared?.ResponseParameters ?? {}).sort()).toEqual(Object.keys(answer!.ResponseParameters).sort());
    }
  });
});

it('the HTTP API front door has no such route: API Gateway answers a method no route has with 404 (no mock integration there)', () => {
  const resources = synth(settingsFor({ frontDoor: 'http-api' }))
    .template()
    .toJSON().Resources as Record<string, Resource>;
  const routes = Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((r) => r.Properties.RouteKey);
  expect(routes.sort()).toEqual(['GET /health', 'GET /health/ready', 'OPTIONS /webhooks/{source}', 'POST /webhooks/{source}']);
});
