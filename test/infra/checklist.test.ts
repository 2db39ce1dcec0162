import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { APIGATEWAY_DISABLE_CLOUDWATCH_ROLE } from 'aws-cdk-lib/cx-api';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, DeploymentRefused } from '../../lib/app.js';
import { CHECKLIST_ITEMS, CLOUDFORMATION_MAX_OUTPUTS, MAX_SOURCES_PER_STACK } from '../../lib/checklist.js';
import { DISABLE_CLOUDWATCH_ROLE_FLAG } from '../../lib/settings.js';
import { NO_BUNDLING } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SAFE_PROD = { stage: 'prod', alarmEmail: 'ops@example.com', corsOrigins: 'https://app.example.com' };
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A working directory holding `hookwarden.config.json` (or none). */
const workdir = (config?: unknown): string => {
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-infra-'));
  dirs.push(dir);
  if (config !== undefined)
    writeFileSync(join(dir, 'hookwarden.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
};

/** The problems `cdk synth` would refuse with, from the app itself (in-process; nothing is bundled). */
const refusal = (
  context: Record<string, unknown>,
  config?: unknown,
  env: NodeJS.ProcessEnv = {},
  ownContextKeys?: readonly string[],
): readonly string[] => {
  try {
    createApp({
      appProps: { context: { ...NO_BUNDLING, ...context } },
      env,
      cwd: workdir(config),
      ...(ownContextKeys ? { ownContextKeys } : {}),
    });
  } catch (error) {
    if (error instanceof DeploymentRefused) return error.problems;
    throw error;
  }
  return [];
};

const source = { name: 'github', scheme: 'github' };

describe('the production checklist', () => {
  it('accepts a safe production configuration (and the defaults in dev)', () => {
    expect(refusal(SAFE_PROD)).toEqual([]);
    expect(refusal(SAFE_PROD, { sources: [source], corsOrigins: ['https://ignored.example.com'] })).toEqual([]);
    expect(refusal({})).toEqual([]);
    expect(refusal(SAFE_PROD, { sources: [{ ...source, rotation: { every: '365d' } }] })).toEqual([]);
    expect(
      refusal(SAFE_PROD, {
        sources: [{ ...source, rotation: { mode: 'off', reason: 'a test receiver; its key never leaves the account' } }],
      }),
    ).toEqual([]);
  });

  it.each([
    ['missing CORS origins', { ...SAFE_PROD, corsOrigins: undefined }, undefined, /^CORS origins: none configured/],
    [
      'missing CORS origins (empty in the file)',
      { ...SAFE_PROD, corsOrigins: undefined },
      { sources: [source], corsOrigins: [] },
      /^CORS origins: none configured/,
    ],
    ['a wildcard CORS origin', { ...SAFE_PROD, corsOrigins: '*' }, undefined, /^CORS origins: "\*" contains a wildcard/],
    // Named by its key, as the one parser names every key of the file (the checklist no longer re-checks origins).
    [
      'a wildcard CORS origin in the file',
      { ...SAFE_PROD, corsOrigins: undefined },
      { sources: [source], corsOrigins: ['https://*.example.com'] },
      /hookwarden\.config\.json corsOrigins: .*wildcard/,
    ],
    [
      'a non-https CORS origin',
      { ...SAFE_PROD, corsOrigins: 'http://app.example.com' },
      undefined,
      /^CORS origins: "http:\/\/app.example.com" is not https/,
    ],
    ['no alarm email', { ...SAFE_PROD, alarmEmail: undefined }, undefined, /^Alarms: no alarmEmail/],
    [
      'a source without a secret',
      SAFE_PROD,
      { sources: [{ ...source, generateSecret: false }] },
      /^Secrets: source "github" has no secret/,
    ],
    ['debug on', { ...SAFE_PROD, debug: 'true' }, undefined, /^Debug: debug is on/],
    ['WAF disabled without acknowledgement', { ...SAFE_PROD, wafEnabled: 'false' }, undefined, /^WAF: disabled without an acknowledgement/],
    ['no trail for the secret-access audit', { ...SAFE_PROD, cloudTrail: 'none' }, undefined, /^Audit trail: cloudTrail=none/],
    [
      'a rotation period over a year',
      SAFE_PROD,
      { sources: [{ ...source, rotation: { every: '366d' } }] },
      /^Rotation: source "github" rotates every 366d, more than 365d/,
    ],
    [
      'rotation off without a reason',
      SAFE_PROD,
      { sources: [{ ...source, rotation: { mode: 'off' } }] },
      /^Rotation: source "github" has rotation off without a reason/,
    ],
  ])('refuses %s, naming that item only', (_name, context, config, expected) => {
    const problems = refusal(context, config);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('lists every failing item at once', () => {
    const problems = refusal(
      { stage: 'prod', corsOrigins: '*', wafEnabled: 'false', debug: 'true', cloudTrail: 'none' },
      { sources: [{ ...source, generateSecret: false, rotation: { every: '500d' } }] },
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual(['CORS origins', 'Alarms', 'Secrets', 'Debug', 'WAF', 'Audit trail', 'Rotation']);
    expect(new Set(problems.map((p) => p.split(':')[0]))).toEqual(new Set(CHECKLIST_ITEMS));
  });

  it('creates a trail for the audit in prod unless told the account has one, and never in dev unless asked', () => {
    const trail = (context: Record<string, unknown>) =>
      createApp({ appProps: { context: { ...NO_BUNDLING, ...context } }, env: {}, cwd: workdir() }).settings.cloudTrail;
    expect(trail(SAFE_PROD)).toBe('create');
    expect(trail({ ...SAFE_PROD, cloudTrail: 'existing' })).toBe('existing');
    expect(trail({})).toBe('existing');
    expect(trail({ cloudTrail: 'create' })).toBe('create');
    expect(refusal({ cloudTrail: 'none' })).toEqual([]);
  });

  // The flag (`cdk init` sets it in new apps) says the app manages API Gateway's one CloudWatch role setting per account
  // and region elsewhere. The stack created a role and took the setting over whatever it said.
  it("defaults the API Gateway CloudWatch role to existing when the app sets CDK's disableCloudWatchRole flag", () => {
    const FLAG = APIGATEWAY_DISABLE_CLOUDWATCH_ROLE;
    expect(DISABLE_CLOUDWATCH_ROLE_FLAG).toBe(FLAG);
    const built = (context: Record<string, unknown>) =>
      createApp({ appProps: { context: { ...NO_BUNDLING, ...SAFE_PROD, ...context } }, env: {}, cwd: workdir() });
    const flagged = built({ [FLAG]: true });
    expect(flagged.settings.apiGatewayCloudWatchRole).toBe('existing');
    Template.fromStack(flagged.stack).resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(built({ [FLAG]: false }).settings.apiGatewayCloudWatchRole).toBe('create');
    // Asked for by name, the role is made whatever the flag says.
    const asked = built({ [FLAG]: true, apiGatewayCloudWatchRole: 'create' });
    expect(asked.settings.apiGatewayCloudWatchRole).toBe('create');
    Template.fromStack(asked.stack).resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('reads tracing (default off) and the API Gateway CloudWatch role choice (default create) from context', () => {
    const settings = (context: Record<string, unknown>) =>
      createApp({ appProps: { context: { ...NO_BUNDLING, ...context } }, env: {}, cwd: workdir() }).settings;
    expect(settings(SAFE_PROD)).toMatchObject({ tracing: false, apiGatewayCloudWatchRole: 'create' });
    expect(settings({ tracing: 'true', apiGatewayCloudWatchRole: 'existing' })).toMatchObject({
      tracing: true,
      apiGatewayCloudWatchRole: 'existing',
    });
  });

  it('accepts WAF disabled with an acknowledgement', () => {
    expect(refusal({ ...SAFE_PROD, wafEnabled: 'false', wafDisabledReason: 'CloudFront with its own web ACL sits in front' })).toEqual([]);
  });

  it('refuses a WAF rate limit for a stack that deploys no WAF, rather than deploying no limit in silence', () => {
    // dev has no WAF unless wafEnabled=true; prod without WAF needs wafDisabledReason, and the limit would still apply to nothing.
    expect(refusal({ wafRateLimit: '2000' })).toEqual([
      expect.stringMatching(/^context wafRateLimit: is set, but this dev stack deploys no WAF .*-c wafEnabled=true/),
    ]);
    expect(refusal({ ...SAFE_PROD, wafEnabled: 'false', wafDisabledReason: 'CloudFront in front', wafRateLimit: '2000' })).toEqual([
      expect.stringMatching(/^context wafRateLimit: is set, but this prod stack deploys no WAF/),
    ]);
    expect(refusal({ wafEnabled: 'true', wafRateLimit: '2000' })).toEqual([]);
    expect(refusal({ ...SAFE_PROD, wafRateLimit: '2000' })).toEqual([]);
  });

  it('refuses in dev too what would stop the function from starting', () => {
    expect(refusal({ corsOrigins: '*' })).toEqual([expect.stringMatching(/^CORS origins: .*wildcard/)]);
    expect(refusal({}, { sources: [{ ...source, generateSecret: false }] })).toEqual([expect.stringMatching(/^Secrets: source "github"/)]);
    // Plain http is fine for a dev stage (a local front end).
    expect(refusal({ corsOrigins: 'http://localhost:5173' })).toEqual([]);
  });

  it("refuses an invalid config file or context in any stage, with the local server's wording", () => {
    const problems = refusal(
      {
        stage: 'production',
        wafEnabled: 'yes please',
        wafRateLimit: '5',
        alarmEmail: 'ops',
        secretCacheSeconds: '0',
        cloudTrail: 'maybe',
        tracing: 'sometimes',
        apiGatewayCloudWatchRole: 'mine',
      },
      {
        sources: [
          { name: 'Bad Name', scheme: 'github' },
          { name: 'paypal', scheme: 'paypal' },
          { name: 'ips', scheme: 'github', allowedIps: ['nope'], rateLimit: 'lots' },
          { name: 'imported', scheme: 'stripe', secretArn: 'my-secret' },
        ],
        trustedProxies: ['10.0.0.0/33'],
      },
    );
    const text = problems.join('\n');
    for (const expected of [
      /context stage: must be "dev" or "prod"/,
      /sources\[0\]\.name/,
      /sources\[1\]\.scheme: unknown scheme "paypal"/,
      /sources\[2\]\.allowedIps/,
      /sources\[2\]\.rateLimit/,
      /sources\[3\]\.secretArn: must be the complete secret ARN/,
      /trustedProxies/,
      /context alarmEmail/,
      /context wafEnabled/,
      /context wafRateLimit/,
      /context secretCacheSeconds/,
      /context cloudTrail: must be "create", "existing" or "none"/,
      /context tracing: must be true or false/,
      /context apiGatewayCloudWatchRole: must be "create" or "existing"/,
    ]) {
      expect(text).toMatch(expected);
    }
    expect(refusal({}, '{ not json')).toEqual([expect.stringMatching(/hookwarden\.config\.json: is not valid JSON/)]);
  });

  it('accepts 50 sources in any stage: the configuration ships in the bundle, not in the 4 KB environment', () => {
    const sources = {
      sources: Array.from({ length: 50 }, (_, i) => ({
        name: `source-${i}`,
        scheme: 'github',
        allowedIps: ['192.30.252.0/22', '185.199.108.0/22'],
      })),
    };
    expect(refusal({}, sources)).toEqual([]);
    expect(refusal(SAFE_PROD, sources)).toEqual([]);
  });

  // CloudFormation refuses a template with more than 200 outputs at deploy; two per source.
  it("refuses more sources than one stack's 200 CloudFormation outputs hold, in any stage; the most it accepts fits", () => {
    const sources = (n: number) => ({ sources: Array.from({ length: n }, (_, i) => ({ name: `source-${i}`, scheme: 'github' })) });
    const over = MAX_SOURCES_PER_STACK + 1;
    for (const context of [{}, SAFE_PROD]) {
      expect(refusal(context, sources(over))).toEqual([
        `sources: ${over} sources need up to ${8 + 2 * over} stack outputs and CloudFormation allows 200: one stack holds at most ${MAX_SOURCES_PER_STACK} sources`,
      ]);
    }
    // The stack with the most outputs (REST with WAF: its IP sets) at the most sources accepted.
    const { stack } = createApp({
      appProps: { context: { ...NO_BUNDLING, ...SAFE_PROD } },
      env: {},
      cwd: workdir(sources(MAX_SOURCES_PER_STACK)),
    });
    const outputs = Object.keys(Template.fromStack(stack).toJSON().Outputs as object).length;
    expect(outputs).toBeLessThanOrEqual(CLOUDFORMATION_MAX_OUTPUTS);
    expect(outputs).toBeGreaterThan(CLOUDFORMATION_MAX_OUTPUTS - 2);
  });

  it('refuses the dangerous values the functions refuse, and hands an acknowledgement on to them', () => {
    const risky = { sources: [{ ...source, allowedIps: ['0.0.0.0/0'] }], trustedProxies: ['::/0'] };
    const text = refusal({}, risky).join('\n');
    expect(text).toMatch(/sources\[0\]\.allowedIps: "0\.0\.0\.0\/0" allows every address/);
    expect(text).toMatch(/trustedProxies: "::\/0" trusts X-Forwarded-For/);
    const { stack } = createApp({
      appProps: { context: NO_BUNDLING },
      env: {},
      cwd: workdir({ ...risky, acceptRisks: ['allow-any-ip', 'trust-any-proxy'] }),
    });
    // The functions read the document their bundle ships.
    expect(stack.functions.configDocument.acceptRisks).toEqual(['allow-any-ip', 'trust-any-proxy']);
  });

  it("refuses a variable of the deployer's environment that the deploy would leave out, rather than deploy without it", () => {
    // Without a file the deploy reads WEBHOOK_SCHEME and WEBHOOK_HMAC_* only: an allowlist or a limit exported for
    // npm start would have been dropped, and the stack deployed with no allowlist and no limit.
    const bare = refusal({}, undefined, {
      WEBHOOK_ALLOWED_IPS: '192.30.252.0/22',
      WEBHOOK_RATE_LIMIT: '600/60s',
      WEBHOOK_SECRET: 'never-read',
    });
    expect(bare).toEqual([
      expect.stringMatching(/^WEBHOOK_ALLOWED_IPS: is set, but cdk deploy does not read it .*hookwarden\.config\.json/),
      expect.stringMatching(/^WEBHOOK_RATE_LIMIT: is set, but cdk deploy does not read it/),
    ]);
    // Beside a file npm start refuses the single-source variables, and so does the deploy; CORS origins and proxies
    // it reads from the file and the context only.
    const filed = refusal(
      {},
      { sources: [source] },
      { WEBHOOK_SCHEME: 'stripe', CORS_ORIGINS: 'https://app.example.com', TRUSTED_PROXIES: '10.0.0.1' },
    );
    expect(filed).toEqual([
      expect.stringMatching(/^WEBHOOK_SCHEME: is set, but cdk deploy does not read it .*hookwarden\.config\.json/),
      expect.stringMatching(/^CORS_ORIGINS: is set, but cdk deploy does not read it .*-c corsOrigins/),
      expect.stringMatching(/^TRUSTED_PROXIES: is set, but cdk deploy does not read it .*trustedProxies/),
    ]);
  });

  it('refuses DEBUG or WEBHOOK_SECRET_CACHE_SECONDS in the environment that says other than the context the stack deploys', () => {
    // Exported for npm start, they would have been left out: DEBUG=true deployed as debug false, a 60 s cache as 300 s.
    expect(refusal({}, undefined, { DEBUG: 'true', WEBHOOK_SECRET_CACHE_SECONDS: '60' })).toEqual([
      expect.stringMatching(/^DEBUG: is true, but cdk deploy does not read it .*deployed with debug false: give -c debug=true/),
      expect.stringMatching(
        /^WEBHOOK_SECRET_CACHE_SECONDS: is "60", but cdk deploy does not read it .*for 300 s: give -c secretCacheSeconds=/,
      ),
    ]);
    expect(refusal({ debug: 'true' }, undefined, { DEBUG: 'no' })).toEqual([
      expect.stringMatching(/^DEBUG: is no, but .*deployed with debug true: give -c debug=false, or unset DEBUG/),
    ]);
    // Saying what the stack deploys anyway is no problem; NODE_ENV follows the stage, whatever the shell exports.
    expect(refusal({ debug: 'true', secretCacheSeconds: '60' }, undefined, { DEBUG: 'yes', WEBHOOK_SECRET_CACHE_SECONDS: '60' })).toEqual(
      [],
    );
    expect(refusal({}, undefined, { DEBUG: 'false', WEBHOOK_SECRET_CACHE_SECONDS: '300', NODE_ENV: 'production' })).toEqual([]);
  });

  it('refuses a mistyped context key, which the deploy would ignore (-c stgae=prod deployed the dev stage)', () => {
    const hint = " (an app's own key: pass it in createApp's ownContextKeys)";
    expect(refusal({ stgae: 'prod', corsOrigin: 'https://app.example.com', WafEnabled: 'false' })).toEqual([
      `context stgae: unknown key, which cdk deploy would ignore; the nearest known key is "stage"${hint}`,
      `context corsOrigin: unknown key, which cdk deploy would ignore; the nearest known key is "corsOrigins"${hint}`,
      `context WafEnabled: unknown key, which cdk deploy would ignore; the nearest known key is "wafEnabled"${hint}`,
    ]);
    // CDK's own keys and an app's own, far from every key the deploy reads, are left alone.
    expect(refusal({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:version-reporting': false, accountAlias: 'acme' })).toEqual([]);
  });

  it("leaves alone an app's own key named in ownContextKeys, and only that one", () => {
    // A team's createApp whose own code reads `stages` could not deploy without a way to say so.
    expect(refusal({ stages: 'dev,prod' }, undefined, {}, ['stages'])).toEqual([]);
    expect(refusal({ stages: 'dev,prod', stgae: 'prod' }, undefined, {}, ['stages'])).toEqual([
      expect.stringMatching(/^context stgae: unknown key/),
    ]);
    expect(refusal({}, undefined, {}, ['stage'])).toEqual(['ownContextKeys: "stage" is a key Hookwarden reads']);
  });

  it('deploys one default source with the scheme from WEBHOOK_SCHEME when there is no config file', () => {
    const { settings } = createApp({
      appProps: { context: NO_BUNDLING },
      env: { WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: 'never-read' },
      cwd: workdir(),
    });
    expect(settings.sources).toEqual([expect.objectContaining({ name: 'default', scheme: 'github', generateSecret: true })]);
    expect(refusal({}, undefined, { WEBHOOK_SCHEME: 'paypal' })).toEqual([expect.stringMatching(/^WEBHOOK_SCHEME: unknown scheme/)]);
    const unsigned = { WEBHOOK_SCHEME: 'hmac', WEBHOOK_HMAC_HEADER: 'x-sig', WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-ts' };
    expect(refusal({}, undefined, unsigned)).toEqual([
      expect.stringMatching(/^WEBHOOK_HMAC_TIMESTAMP_HEADER: is set but WEBHOOK_HMAC_TEMPLATE has no \{timestamp\}/),
    ]);
  });

  it('makes `cdk synth -c stage=prod` exit non-zero, listing every failing item by name', () => {
    // From an empty directory: no config file, so only the context decides.
    const result = spawnSync(
      process.execPath,
      ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'bin', 'hookwarden.ts')],
      {
        cwd: workdir(),
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ stage: 'prod', corsOrigins: '*', wafEnabled: 'false', debug: 'true' }),
          CDK_OUTDIR: join(workdir(), 'cdk.out'),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^Refusing to synthesize the prod stack:/);
    for (const name of ['CORS origins', 'Alarms', 'Debug', 'WAF']) expect(result.stderr).toContain(`  - ${name}:`);
  });
});
