import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { BUNDLED_CONFIG_FILE, type WebhookHandler } from '../../lib/constructs/webhook-functions.js';
import { createApp } from '../../lib/app.js';
import { HookwardenStack } from '../../lib/hookwarden-stack.js';
import { emptyDir } from '../helpers/harness.js';
import { NO_BUNDLING, prodSettings, synth } from './helpers.js';

const ENTRY = join(import.meta.dirname, 'fixtures', 'own-handler.ts');
/** The webhook function's logical id in the template. */
const webhookLogicalId = (stack: HookwardenStack): string => stack.getLogicalId(stack.functions.webhook.node.defaultChild as CfnElement);
type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

/**
 * The production stack's resources with every function's code and asset
 * metadata left out (their hashes change with each synth's output folder),
 * and the webhook function's logical id.
 */
const resourcesOf = (webhookHandler?: WebhookHandler) => {
  const { stack, template } = synth(prodSettings(), webhookHandler ? { webhookHandler } : {});
  const resources = structuredClone(template().toJSON().Resources) as Record<string, Resource>;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    delete resource.Properties.Code;
    delete resource.Metadata;
  }
  const webhookId = webhookLogicalId(stack);
  return { resources, webhookId, stack };
};

describe('the stack with your own webhook handler', () => {
  it('deploys your entry with exactly what Hookwarden’s own gets: every table, secret, grant, route, WAF rule, alarm, audit and output', () => {
    const own = resourcesOf({ entry: ENTRY });
    const hookwarden = resourcesOf();
    expect(own.webhookId).toBe(hookwarden.webhookId);
    expect(Object.keys(own.resources).length).toBeGreaterThan(50);
    expect(own.resources).toEqual(hookwarden.resources);
  }, 180_000);

  it('bundles your entry (not functions/webhook/handler.ts) with the configuration file beside it', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'hookwarden-own-'));
    try {
      const { app, stack } = synth(prodSettings(), { bundle: true, outdir, webhookHandler: { entry: ENTRY } });
      const resources = app.synth().getStackByName(stack.stackName).template.Resources as Record<
        string,
        { Properties: { Code: { S3Key: string } } }
      >;
      const webhookId = webhookLogicalId(stack);
      const bundle = join(outdir, `asset.${resources[webhookId]?.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
      // Booleans, not the strings: a failure would otherwise print megabytes of bundle.
      expect(code.includes('queued'), 'the fixture’s own answer is in the bundle').toBe(true);
      expect(
        readFileSync(join(bundle, 'index.mjs.map'), 'utf8').includes('fixtures/own-handler.ts'),
        'the source map names the fixture',
      ).toBe(true);
      expect(JSON.parse(readFileSync(join(bundle, BUNDLED_CONFIG_FILE), 'utf8'))).toEqual(stack.functions.configDocument);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);

  it('gives a factory the configuration file to ship', () => {
    const seen: string[] = [];
    resourcesOf({
      factory: (scope, id, defaults) => {
        seen.push(defaults.configFile);
        return new NodejsFunction(scope, id, { ...defaults, entry: ENTRY });
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/hookwarden\.config\.json$/);
  }, 120_000);
});

describe('the default app with your own handler', () => {
  it('createApp reads the same settings, runs the same checklist and builds your function', () => {
    const built: string[] = [];
    const { stack } = createApp({
      appProps: { context: NO_BUNDLING },
      env: {},
      cwd: emptyDir(),
      webhookHandler: {
        factory: (scope, id, defaults) => {
          built.push(id);
          return new NodejsFunction(scope, id, { ...defaults, entry: ENTRY });
        },
      },
    });
    expect(built).toEqual(['Webhook']);
    expect(stack.functions.webhook.node.id).toBe('Webhook');
  }, 120_000);
});

describe('a function factory', () => {
  it('builds the webhook function from the defaults, keeping every grant, route and alarm', () => {
    const own = resourcesOf({
      factory: (scope, id, defaults) => new NodejsFunction(scope, id, { ...defaults, entry: ENTRY, memorySize: 512 }),
    });
    const reference = resourcesOf();
    const { MemorySize: memory, ...rest } = (own.resources[own.webhookId] as Resource).Properties;
    const { MemorySize: _referenceMemory, ...referenceRest } = (reference.resources[reference.webhookId] as Resource).Properties;
    expect(memory).toBe(512);
    expect(rest).toEqual(referenceRest);
    expect({ ...own.resources, [own.webhookId]: undefined }).toEqual({ ...reference.resources, [reference.webhookId]: undefined });
  }, 180_000);

  it('is refused when it does not use the role it is given (the grants and the audit are on that role)', () => {
    const app = new App({ context: NO_BUNDLING });
    const factory: WebhookHandler = {
      factory: (scope, id, defaults) =>
        new NodejsFunction(scope, id, {
          ...defaults,
          entry: ENTRY,
          role: new Role(scope, `${id}Other`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
        }),
    };
    expect(() => new HookwardenStack(app, 'Hookwarden-prod', { settings: prodSettings(), webhookHandler: factory })).toThrow(
      /must build the function with the role it is given/,
    );
  });
});
