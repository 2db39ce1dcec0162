import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import type { SourceDescription } from '../../core/config/index.js';
import { WEBHOOK_DEADLINE, WEBHOOK_TIMEOUT_SECONDS } from '../../core/deadline.js';
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

  // The webhook request answers its own 503 by a deadline derived from the function's timeout: a timeout set here
  // alone, or a budget set there alone, would let a slow store run into the function's end (API Gateway's 502/504).
  it('gives the webhook and health functions the timeout the webhook deadline is derived from, with the deadline, the late answer and the margin inside it', () => {
    const functions = build({})();
    const timeouts = Object.values(Template.fromStack(Stack.of(functions)).findResources('AWS::Lambda::Function')).map(
      (resource) => (resource as { Properties: { Timeout?: number } }).Properties.Timeout,
    );
    expect(timeouts).toEqual([WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_TIMEOUT_SECONDS]);
    expect(WEBHOOK_DEADLINE.budgetMs + WEBHOOK_DEADLINE.marginMs).toBeLessThanOrEqual(WEBHOOK_TIMEOUT_SECONDS * 1000);
    expect(WEBHOOK_DEADLINE.lateAnswerMs).toBeLessThan(WEBHOOK_DEADLINE.marginMs);
  });
});
