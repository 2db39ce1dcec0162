import { describe, expect, it } from 'vitest';
import { redactedHeaders, WAF_LOG_GROUP_PREFIX } from '../../lib/constructs/edge-firewall.js';
import { prodSettings, settingsFor, sourceFor, synth } from './helpers.js';
import { resolveIntrinsics } from './intrinsics.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

/** The headers that carry a signature or a token, whatever the case they arrive in. */
const SECRET_BEARING = [
  'authorization',
  'x-hub-signature-256',
  'x-hub-signature',
  'stripe-signature',
  'x-slack-signature',
  'x-shopify-hmac-sha256',
  'webhook-signature',
  'svix-signature',
];

describe('WAF logging (prod, REST front door)', () => {
  const { stack, template } = synth(
    prodSettings({
      sources: [
        sourceFor(),
        sourceFor({ name: 'acme', scheme: 'hmac', hmac: { header: 'X-Acme-Signature' } }),
        sourceFor({ name: 'team', scheme: 'hmac', hmac: { header: 'x-acme-signature', prefix: 'sha256=' } }),
      ],
    }),
  );
  const resources = template().toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it("logs the web ACL to an aws-waf-logs- group of the stage's own, kept in prod for 90 days", () => {
    const configs = ofType('AWS::WAFv2::LoggingConfiguration');
    expect(configs).toHaveLength(1);
    const config = configs[0]?.[1].Properties as Record<string, unknown>;
    const webAcl = stack.getLogicalId(stack.firewall?.webAcl as never);
    expect(config.ResourceArn).toEqual({ 'Fn::GetAtt': [webAcl, 'Arn'] });
    // WAF refuses a destination whose name lacks the prefix, and the group's ARN with LogGroup.logGroupArn's ":*".
    expect(resolveIntrinsics(config.LogDestinationConfigs)).toEqual([
      'arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-Hookwarden-prod',
    ]);
    const group = ofType('AWS::Logs::LogGroup').find(([, r]) => r.Properties.LogGroupName === `${WAF_LOG_GROUP_PREFIX}Hookwarden-prod`);
    expect(group?.[1].Properties.RetentionInDays).toBe(90);
    expect(group?.[1].DeletionPolicy).toBe('Retain');
  });

  it("redacts every header that carries a signature or a token, the hmac sources' own included, once each", () => {
    const config = ofType('AWS::WAFv2::LoggingConfiguration')[0]?.[1].Properties as { RedactedFields: Array<Record<string, unknown>> };
    const names = config.RedactedFields.map((field) => (field.SingleHeader as { Name: string }).Name);
    expect(config.RedactedFields.every((field) => Object.keys(field).join() === 'SingleHeader')).toBe(true);
    expect(names).toEqual(expect.arrayContaining([...SECRET_BEARING, 'x-acme-signature']));
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('without a WAF', () => {
  it.each([
    ['dev', settingsFor()],
    ['dev behind an HTTP API', settingsFor({ frontDoor: 'http-api' })],
  ])('the %s stack has no WAF logging', (_name, settings) => {
    const resources = synth(settings).template().toJSON().Resources as Record<string, Resource>;
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::WAFv2::LoggingConfiguration')).toEqual([]);
    expect(JSON.stringify(resources)).not.toContain(WAF_LOG_GROUP_PREFIX);
  });
});

it('redactedHeaders: the fixed list with no hmac source', () => {
  expect(redactedHeaders([]).sort()).toEqual([...SECRET_BEARING].sort());
});
