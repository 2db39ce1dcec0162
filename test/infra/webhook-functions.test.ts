import { App, Stack } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import type { SourceDescription } from '../../core/config/index.js';
import { WebhookFunctions, type WebhookFunctionsProps } from '../../lib/constructs/webhook-functions.js';
import { WebhookTables } from '../../lib/constructs/tables.js';
import { NO_BUNDLING, sourceFor } from './helpers.js';

const SOURCE: SourceDescription = sourceFor();
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks-default-AbCdEf';

/** WebhookFunctions used on its own, as a team composing its own stack would. */
const build = (props: Partial<WebhookFunctionsProps>) => {
  const stack = new Stack(new App({ context: NO_BUNDLING }), 'Own');
  const tables = new WebhookTables(stack, 'Tables');
  return () =>
    new WebhookFunctions(stack, 'Functions', {
      sources: [SOURCE],
      secrets: new Map([['default', Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ID)]]),
      secretIds: new Map([['default', SECRET_ID]]),
      deliveries: tables.deliveries,
      rateLimits: tables.rateLimits,
      ...props,
    });
};

describe('WebhookFunctions on its own', () => {
  it('synthesizes a configuration its functions accept', () => {
    expect(build({})).not.toThrow();
  });

  // Its props are not the parser's output: what the functions would refuse at every cold start (a 5xx on every delivery
  // after a successful deploy) is refused at synth, every problem at once.
  it.each([
    ['a wildcard CORS origin', { corsOrigins: ['*'] }, /corsOrigins: "\*" contains a wildcard/],
    ['every address as trusted proxy', { trustedProxies: ['0.0.0.0/0'] }, /trustedProxies: "0\.0\.0\.0\/0" trusts/],
    [
      'an invalid allowlist',
      { sources: [{ ...SOURCE, allowedIps: ['10.0.0.0/33'] }] },
      /allowedIps: "10\.0\.0\.0\/33" has an invalid prefix/,
    ],
    ['a source without a secret id', { secretIds: new Map() }, /source "default": has no secret id/],
  ])('refuses %s at synth', (_, props, message) => {
    expect(build(props as Partial<WebhookFunctionsProps>)).toThrow(message);
  });

  it('accepts a dangerous value acknowledged in acceptRisks', () => {
    expect(build({ trustedProxies: ['0.0.0.0/0'], acceptRisks: ['trust-any-proxy'] })).not.toThrow();
  });
});
