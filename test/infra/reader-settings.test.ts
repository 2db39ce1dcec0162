import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { READER_VARIABLES, readerSettings } from '../../core/reader/settings.js';
import { createApp, DeploymentRefused } from '../../lib/app.js';
import type { HookwardenStack } from '../../lib/hookwarden-stack.js';
import { NO_BUNDLING, settingsFor, synth } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The app as `cdk synth -c …` builds it, in a directory without a config file. */
const appWith = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-reader-settings-'));
  dirs.push(dir);
  return createApp({ appProps: { context: { ...NO_BUNDLING, ...context } }, env, cwd: dir });
};

/** Why the app refused to synthesize (one line per problem), or a failure when it did not. */
const refusal = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): readonly string[] => {
  try {
    appWith(context, env);
  } catch (error) {
    if (error instanceof DeploymentRefused) return error.problems;
    throw error;
  }
  throw new Error('the app synthesized');
};

/** The environment of the reader and of the events function, as the template gives them. */
const functionEnvironments = (stack: HookwardenStack): Array<Record<string, unknown>> => {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
  const api = stack.deliveriesApi;
  if (!api) throw new Error('no deliveries API');
  return [api.reader, api.events].map((fn) => {
    const id = stack.getLogicalId(fn.node.defaultChild as never);
    return ((resources[id]?.Properties.Environment as { Variables?: Record<string, unknown> }) ?? {}).Variables ?? {};
  });
};

const readerVariablesOf = (variables: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(variables).filter(([name]) => (Object.values(READER_VARIABLES) as string[]).includes(name)));

describe("the deliveries API's settings at deploy", () => {
  it('leaves every reader variable out of both functions when none is set: the functions keep their defaults', () => {
    const { stack } = appWith({});
    const environments = functionEnvironments(stack);
    expect(environments).toHaveLength(2);
    for (const variables of environments) {
      expect(variables).toHaveProperty('NODE_ENV');
      expect(readerVariablesOf(variables)).toEqual({});
    }
  });

  it('passes each one set in context to the reader and events functions as the variable they read, and only those', () => {
    const context = {
      apiRateLimit: '100/1m',
      streamRateLimit: '10/14m',
      readBudget: '60000/60s',
      streamMaxSeconds: '600',
      streamKeepAliveSeconds: 20,
      streamPollMs: '2000',
      streamSettleMs: '0',
      streamLookBackMs: '60000',
    };
    const { stack, settings } = appWith(context);
    const expected = {
      HOOKWARDEN_API_RATE_LIMIT: '100/1m',
      HOOKWARDEN_STREAM_RATE_LIMIT: '10/14m',
      HOOKWARDEN_READ_BUDGET: '60000/60s',
      HOOKWARDEN_STREAM_MAX_SECONDS: '600',
      HOOKWARDEN_STREAM_KEEPALIVE_SECONDS: '20',
      HOOKWARDEN_STREAM_POLL_MS: '2000',
      HOOKWARDEN_STREAM_SETTLE_MS: '0',
      HOOKWARDEN_STREAM_LOOKBACK_MS: '60000',
    };
    for (const variables of functionEnvironments(stack)) expect(readerVariablesOf(variables)).toEqual(expected);
    // What the functions make of them at cold start.
    expect(readerSettings(expected)).toMatchObject({
      apiRateLimit: { limit: 100, windowSeconds: 60 },
      readBudget: { limit: 60_000, windowSeconds: 60 },
      streamMaxMs: 600_000,
      keepAliveMs: 20_000,
      settleMs: 0,
    });
    expect(settings.readerSettings).toMatchObject({ readBudget: '60000/60s', streamPollMs: 2000, streamKeepAliveSeconds: 20 });

    const one = functionEnvironments(appWith({ readBudget: '5000/1s' }).stack);
    for (const variables of one) expect(readerVariablesOf(variables)).toEqual({ HOOKWARDEN_READ_BUDGET: '5000/1s' });
  });

  it('takes a rate as a RateLimit on the construct, written as the text the functions parse', () => {
    const { stack } = synth(settingsFor({ readerSettings: { readBudget: { limit: 1200, windowSeconds: 60 }, streamPollMs: 1500 } }));
    for (const variables of functionEnvironments(stack))
      expect(readerVariablesOf(variables)).toEqual({ HOOKWARDEN_READ_BUDGET: '1200/60s', HOOKWARDEN_STREAM_POLL_MS: '1500' });
  });

  it.each([
    ['readBudget', '5000 items', /^context readBudget: "5000 items" is not a rate like 600\/60s/],
    ['apiRateLimit', '0/1m', /^context apiRateLimit: "0\/1m": the count must be at least 1/],
    ['streamRateLimit', 30, /^context streamRateLimit: "30" is not a rate/],
    ['streamMaxSeconds', '900', /^context streamMaxSeconds: must be a whole number from 1 to 870, got "900"/],
    ['streamKeepAliveSeconds', true, /^context streamKeepAliveSeconds: must be a whole number from 1 to 60, got "true"/],
    ['streamPollMs', '10', /^context streamPollMs: must be a whole number from 50 to 60000/],
    ['streamSettleMs', '1.5', /^context streamSettleMs: must be a whole number from 0 to 60000/],
    ['streamLookBackMs', '-1', /^context streamLookBackMs: must be a whole number from 0 to 600000/],
  ])('refuses to synthesize a bad %s (%j), naming the context key', (key, value, expected) => {
    const problems = refusal({ [key]: value });
    expect(problems).toEqual([expect.stringMatching(expected)]);
  });

  it('lists two bad values at once, with the other problems', () => {
    const problems = refusal({ readBudget: 'lots', streamMaxSeconds: '0', stage: 'staging' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^context stage: /),
        expect.stringMatching(/^context readBudget: "lots" is not a rate/),
        expect.stringMatching(/^context streamMaxSeconds: must be a whole number from 1 to 870, got "0"/),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('refuses as docs/deploy.md shows', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
    const example =
      /\$ npx cdk synth -c readBudget=lots -c streamMaxSeconds=900\nRefusing to synthesize the dev stack:\n((?: {2}- .*\n)+)/.exec(doc);
    const shown = example?.[1]
      ?.trimEnd()
      .split('\n')
      .map((line) => line.slice('  - '.length));
    expect(shown).toEqual(refusal({ readBudget: 'lots', streamMaxSeconds: '900' }));
  });

  it('refuses bad values given to the construct directly, every one at once, by prop name', () => {
    let error: unknown;
    try {
      synth(settingsFor({ readerSettings: { readBudget: { limit: 0, windowSeconds: 60 }, streamPollMs: 1.5 } }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^readerSettings\.readBudget: "0\/60s": the count must be at least 1/),
      expect.stringMatching(/^readerSettings\.streamPollMs: must be a whole number from 50 to 60000, got "1\.5"/),
    ]);
  });

  it('refuses a setting for a stack that serves no deliveries API (frontDoor=http-api)', () => {
    expect(refusal({ frontDoor: 'http-api', readBudget: '1000/60s' })).toEqual([
      expect.stringMatching(/^context readBudget: is set, but an HTTP API \(frontDoor=http-api\) serves no deliveries API/),
    ]);
  });

  // Exported for `npm start`, a variable the deploy does not read would be left out of the stack in silence.
  it("refuses a reader variable in the deployer's environment that the stack would not deploy, naming the context key", () => {
    expect(refusal({}, { HOOKWARDEN_READ_BUDGET: '60000/60s' })).toEqual([
      expect.stringMatching(
        /^HOOKWARDEN_READ_BUDGET: is "60000\/60s", but cdk deploy does not read it .* their default: give -c readBudget=/,
      ),
    ]);
    expect(refusal({ streamPollMs: '2000' }, { HOOKWARDEN_STREAM_POLL_MS: '3000' })).toEqual([
      expect.stringMatching(/^HOOKWARDEN_STREAM_POLL_MS: is "3000", .* would run with "2000": give -c streamPollMs=/),
    ]);
    // The same value written otherwise, and the default with the key unset: what the functions run with anyway.
    expect(() => appWith({ readBudget: '60000/60s' }, { HOOKWARDEN_READ_BUDGET: '60000/1m' })).not.toThrow();
    expect(() => appWith({}, { HOOKWARDEN_STREAM_RATE_LIMIT: '30/14m' })).not.toThrow();
    // A stack without the deliveries API deploys none of them, whatever the shell says.
    expect(() => appWith({ frontDoor: 'http-api' }, { HOOKWARDEN_READ_BUDGET: '60000/60s' })).not.toThrow();
  });
});
