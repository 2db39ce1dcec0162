import { App, Stack } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { DeliveriesApi, type DeliveriesApiProps } from '../../lib/constructs/deliveries-api.js';
import { WebhookApi } from '../../lib/constructs/webhook-api.js';
import { WebhookFunctions } from '../../lib/constructs/webhook-functions.js';
import { WebhookTables } from '../../lib/constructs/tables.js';
import { NO_BUNDLING, sourceFor } from './helpers.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks-default-AbCdEf';

/** The constructs composed into a team's own stack (not HookwardenStack), as `hookwarden/cdk` is used. */
const teamStack = () => {
  const stack = new Stack(new App({ context: NO_BUNDLING }), 'Team');
  const tables = new WebhookTables(stack, 'Tables');
  const functions = new WebhookFunctions(stack, 'Functions', {
    sources: [sourceFor()],
    secrets: new Map([['default', Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ID)]]),
    secretIds: new Map([['default', SECRET_ID]]),
    deliveries: tables.deliveries,
    rateLimits: tables.rateLimits,
  });
  const api = new WebhookApi(stack, 'Api', { webhookFunction: functions.webhook, healthFunction: functions.health });
  return { stack, tables, functions, api };
};

/** The problems a construct refuses with, or the error it throws when it is not a ConfigError. */
const problemsOf = (build: () => unknown): readonly string[] => {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('DeliveriesApi in a team stack', () => {
  const deliveriesApi = (props: Partial<DeliveriesApiProps>) => () => {
    const { stack, tables, api } = teamStack();
    return new DeliveriesApi(stack, 'DeliveriesApi', {
      api: api.api,
      validator: api.validator,
      deliveries: tables.deliveries,
      tokens: tables.tokens,
      rateLimits: tables.rateLimits,
      ...props,
    });
  };

  // The reader and events functions read CORS_ORIGINS with the configuration's parser at cold start and refuse a wildcard
  // or a malformed origin: deployed as given, every read would be a 500 after a deploy that succeeded.
  it('refuses origins its functions would refuse at cold start, with its settings problems, at synth', () => {
    expect(
      problemsOf(
        deliveriesApi({ corsOrigins: ['*', 'https://app.example.com/', 'https://ok.example.com'], readerSettings: { readBudget: 'lots' } }),
      ),
    ).toEqual([
      'corsOrigins: "*" contains a wildcard; list exact origins',
      'corsOrigins: "https://app.example.com/" is not an exact origin (expected "https://app.example.com": no path, no trailing slash)',
      expect.stringMatching(/^readerSettings\.readBudget: "lots" is not a rate/),
    ]);
  });

  it('refuses origins given as one string (from JavaScript) rather than failing on it', () => {
    expect(problemsOf(deliveriesApi({ corsOrigins: 'https://app.example.com' as never }))).toEqual([
      'corsOrigins: must be an array of exact origins like ["https://app.example.com"]',
    ]);
  });

  it('accepts exact origins', () => {
    expect(problemsOf(deliveriesApi({ corsOrigins: ['https://app.example.com', 'http://localhost:3000'] }))).toEqual([]);
  });
});
