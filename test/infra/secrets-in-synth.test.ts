import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp, DeploymentRefused } from '../../lib/app.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { NO_BUNDLING } from './helpers.js';

/** A GitHub personal access token's shape (not a real one). */
const GITHUB_TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';

/** Every 12-character part of `value`. */
const parts = (value: string): string[] => Array.from({ length: value.length - 11 }, (_, i) => value.slice(i, i + 12));

/**
 * Whatever secrets the shell that runs `cdk synth` holds (a developer's WEBHOOK_SECRET, a config file's
 * secretEnv variables), none reaches the template: CloudFormation shows templates, parameters and outputs to anyone
 * who may describe the stack.
 */
describe('secrets in the environment of cdk synth', () => {
  it('reach neither the template nor its outputs, nor a function environment', () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, 'hookwarden.config.json'),
      JSON.stringify({
        sources: [
          { name: 'default', scheme: 'standard-webhooks', secretEnv: 'WEBHOOK_SECRET' },
          { name: 'shop', scheme: 'shopify', secretEnv: 'SHOP_SECRET' },
          { name: 'github', scheme: 'github', secretEnv: 'GITHUB_SECRET' },
        ],
      }),
    );
    const env = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks, SHOP_SECRET: TEST_SECRETS.shopify, GITHUB_SECRET: TEST_SECRETS.github };
    const { stack } = createApp({ appProps: { context: NO_BUNDLING }, env, cwd });
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    for (const secret of Object.values(env)) for (const part of parts(secret)) expect(text).not.toContain(part);
    expect(text).not.toContain(TEST_SECRETS.standardWebhooks.slice('whsec_'.length, 'whsec_'.length + 12));
  });

  it('a refused synth quotes no secret pasted into a context value or a variable it reads', () => {
    let refused: unknown;
    try {
      createApp({
        appProps: {
          context: { ...NO_BUNDLING, corsOrigins: TEST_SECRETS.standardWebhooks, alarmEmail: TEST_SECRETS.shopify, stage: GITHUB_TOKEN },
        },
        env: { WEBHOOK_SCHEME: TEST_SECRETS.stripe },
        cwd: emptyDir(),
      });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DeploymentRefused);
    const message = (refused as Error).message;
    for (const named of ['context stage', 'WEBHOOK_SCHEME', 'CORS origins', 'context alarmEmail']) expect(message).toContain(named);
    for (const secret of [TEST_SECRETS.standardWebhooks, TEST_SECRETS.shopify, TEST_SECRETS.stripe, GITHUB_TOKEN])
      for (const part of parts(secret)) expect(message).not.toContain(part);
  });

  it('a refused synth quotes no credential of a URL given as an origin or an alarm email', () => {
    const password = 'pw-horse-battery-staple-42';
    const token = 'tok-orange-lantern-river-7';
    let refused: unknown;
    try {
      createApp({
        appProps: {
          context: {
            ...NO_BUNDLING,
            corsOrigins: `https://deploy:${password}@app.example.com`,
            alarmEmail: `https://ops.example.com/alarms?token=${token}`,
          },
        },
        env: {},
        cwd: emptyDir(),
      });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DeploymentRefused);
    const message = (refused as Error).message;
    for (const named of ['CORS origins', 'context alarmEmail']) expect(message).toContain(named);
    for (const secret of [password, token]) for (const part of parts(secret)) expect(message).not.toContain(part);
  });
});
