import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it, vi } from 'vitest';
import type * as FunctionDefaults from '../../lib/constructs/function-defaults.js';
import { HookwardenStack } from '../../lib/hookwarden-stack.js';
import type { WebhookHandler } from '../../lib/constructs/webhook-functions.js';
import { NO_BUNDLING, prodSettings } from './helpers.js';

// This machine has esbuild, so its absence is simulated: the check behaves as requireLocalEsbuild does without one.
vi.mock('../../lib/constructs/function-defaults.js', async (importOriginal) => ({
  ...(await importOriginal<typeof FunctionDefaults>()),
  requireLocalEsbuild: (scope: Construct) => {
    if (Stack.of(scope).bundlingRequired) throw new Error('no local esbuild (simulated)');
  },
}));

const ENTRY = join(import.meta.dirname, 'fixtures', 'own-handler.ts');

describe("a team's function factory on a machine without a local esbuild", () => {
  it('is never run: the synth fails on the missing esbuild first, not on Docker inside the factory', () => {
    const factory = vi.fn<Extract<WebhookHandler, { factory: unknown }>['factory']>(() => {
      throw new Error('Docker bundling would have started here');
    });
    expect(() => new HookwardenStack(new App(), 'Hookwarden-prod', { settings: prodSettings(), webhookHandler: { factory } })).toThrow(
      'no local esbuild (simulated)',
    );
    expect(factory).not.toHaveBeenCalled();
  });

  it('runs when the stack skips bundling (cdk destroy, cdk ls), which needs no esbuild', () => {
    const factory = vi.fn<Extract<WebhookHandler, { factory: unknown }>['factory']>((scope, id, defaults) => {
      const { configFile: _configFile, ...props } = defaults;
      return new NodejsFunction(scope, id, { ...props, entry: ENTRY });
    });
    new HookwardenStack(new App({ context: NO_BUNDLING }), 'Hookwarden-prod', { settings: prodSettings(), webhookHandler: { factory } });
    expect(factory).toHaveBeenCalledOnce();
  }, 120_000);
});
