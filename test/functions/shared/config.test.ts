import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, requireSecrets } from '../../../functions/shared/config';
import { ConfigError } from '../../../functions/shared/errors';
import { emptyDir } from '../../helpers/harness';
import { TEST_SECRETS } from '../../helpers/secrets';

const GOOD = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };

const problemsOf = (env: Record<string, string>, cwd = emptyDir()): readonly string[] => {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig from the environment', () => {
  it('defines one source named default with secure defaults', () => {
    const config = loadConfig(GOOD, emptyDir());
    const source = config.sources.get('default');
    expect(source).toMatchObject({ schemeName: 'standard-webhooks', maxAgeSeconds: 300, maxBodyBytes: 1_048_576, allowedIps: [] });
    expect(source?.secret).toEqual({ kind: 'env', variable: 'WEBHOOK_SECRET', values: [TEST_SECRETS.standardWebhooks] });
    expect(config.corsOrigins).toEqual([]);
    expect(config.trustedProxies).toEqual([]);
    expect(config.production).toBe(false);
  });

  it('accepts several comma-separated secrets, all valid', () => {
    const config = loadConfig({ WEBHOOK_SECRET: `${TEST_SECRETS.standardWebhooks}, ${TEST_SECRETS.standardWebhooksSecond}` }, emptyDir());
    const secret = config.sources.get('default')?.secret;
    expect(secret?.kind === 'env' && secret.values).toHaveLength(2);
  });

  it.each([
    ['WEBHOOK_MAX_AGE', { WEBHOOK_MAX_AGE: 'five minutes' }],
    ['WEBHOOK_MAX_AGE', { WEBHOOK_MAX_AGE: '0' }],
    ['WEBHOOK_MAX_BODY_BYTES', { WEBHOOK_MAX_BODY_BYTES: '-1' }],
    ['WEBHOOK_MAX_BODY_BYTES', { WEBHOOK_MAX_BODY_BYTES: '99999999999' }],
    ['WEBHOOK_ALLOWED_IPS', { WEBHOOK_ALLOWED_IPS: '10.0.0.0/33' }],
    ['WEBHOOK_ALLOWED_IPS', { WEBHOOK_ALLOWED_IPS: 'example.com' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '300.1.1.1' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: '*' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com/' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'app.example.com' }],
    ['WEBHOOK_SCHEME', { WEBHOOK_SCHEME: 'paypal' }],
    ['WEBHOOK_SECRET', { WEBHOOK_SECRET: 'v1,notasecret' }],
    ['DEBUG', { DEBUG: 'maybe' }],
    ['WEBHOOK_RATE_LIMIT', { WEBHOOK_RATE_LIMIT: 'lots' }],
    ['WEBHOOK_CLIENT_RATE_LIMIT', { WEBHOOK_CLIENT_RATE_LIMIT: '0/1m' }],
    ['HOOKWARDEN_CONFIG', { HOOKWARDEN_CONFIG: '/nonexistent/hookwarden.json' }],
  ])('names %s in the error for a bad value', (variable, env) => {
    const problems = problemsOf({ ...GOOD, ...env });
    expect(problems.some((p) => p.startsWith(variable))).toBe(true);
  });

  it('reads rate limits; unset means no app-level limit', () => {
    expect(loadConfig(GOOD, emptyDir()).sources.get('default')?.rateLimit).toBeUndefined();
    const source = loadConfig({ ...GOOD, WEBHOOK_RATE_LIMIT: '600/60s', WEBHOOK_CLIENT_RATE_LIMIT: '100/1m' }, emptyDir()).sources.get('default');
    expect(source?.rateLimit).toEqual({ limit: 600, windowSeconds: 60 });
    expect(source?.clientRateLimit).toEqual({ limit: 100, windowSeconds: 60 });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ WEBHOOK_MAX_AGE: 'x', WEBHOOK_ALLOWED_IPS: 'nope', CORS_ORIGINS: '*', DEBUG: 'perhaps', TRUSTED_PROXIES: '1.2.3' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['WEBHOOK_MAX_AGE', 'WEBHOOK_ALLOWED_IPS', 'CORS_ORIGINS', 'DEBUG', 'TRUSTED_PROXIES']),
    );
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });

  it.each([
    ['github', 'Str0ngRandomSecretValue,x', 'key #2 of 2 has 1 byte of key material; at least 16 are needed'],
    ['shopify', 'fifteen-chars!!', 'key #1 of 1 has 15 bytes of key material; at least 16 are needed'],
    ['stripe', 'whsec_short1', 'key #1 of 1 has 12 bytes of key material; at least 16 are needed'],
    ['standard-webhooks', 'whsec_c2hvcnQ=', 'key #1 of 1 decodes to 5 bytes; at least 16 are needed'],
  ])('refuses a %s key shorter than 16 bytes, naming WEBHOOK_SECRET and its position, never its value', (scheme, secret, message) => {
    const problems = problemsOf({ WEBHOOK_SCHEME: scheme, WEBHOOK_SECRET: secret });
    expect(problems).toEqual([`WEBHOOK_SECRET: ${message}`]);
  });

  it('never echoes a secret in a problem', () => {
    const problems = problemsOf({ WEBHOOK_SECRET: 'whsec_!!!not-base64-but-secret!!!' });
    expect(problems.join('\n')).not.toContain('not-base64-but-secret');
  });

  it.each([
    [{ NODE_ENV: 'production' }, true],
    [{ DEBUG: 'false' }, true],
    [{ NODE_ENV: 'development' }, false],
    [{ DEBUG: 'true' }, false],
  ])('production mode for %o is %s', (env, production) => {
    expect(loadConfig({ ...GOOD, ...env }, emptyDir()).production).toBe(production);
  });

  it('refuses to run without a secret where there is no development fallback', () => {
    const config = loadConfig({}, emptyDir());
    expect(() => requireSecrets(config)).toThrow(/WEBHOOK_SECRET/);
  });
});

describe('loadConfig from hookwarden.config.json', () => {
  const write = (document: unknown): string => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'hookwarden.config.json'), JSON.stringify(document));
    return dir;
  };

  it('reads several sources, each with its own secret variable and limits', () => {
    const dir = write({
      sources: [
        { name: 'github', scheme: 'github', secretEnv: 'GH_SECRET', allowedIps: ['192.30.252.0/22'] },
        { name: 'stripe', scheme: 'stripe', secretEnv: 'STRIPE_SECRET', maxAgeSeconds: 600, maxBodyBytes: 65536 },
      ],
      corsOrigins: ['https://app.example.com'],
      trustedProxies: ['10.0.0.0/8'],
    });
    const config = loadConfig({ GH_SECRET: TEST_SECRETS.github, STRIPE_SECRET: TEST_SECRETS.stripe }, dir);
    expect([...config.sources.keys()]).toEqual(['github', 'stripe']);
    expect(config.sources.get('stripe')).toMatchObject({ maxAgeSeconds: 600, maxBodyBytes: 65536 });
    expect(config.sources.get('github')?.allowedIps).toEqual(['192.30.252.0/22']);
    expect(config.corsOrigins).toEqual(['https://app.example.com']);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8']);
  });

  it('lets CORS_ORIGINS and TRUSTED_PROXIES override the file', () => {
    const dir = write({ sources: [{ name: 'a', scheme: 'github', secretEnv: 'S' }], corsOrigins: ['https://a.example.com'] });
    const config = loadConfig({ S: TEST_SECRETS.github, CORS_ORIGINS: 'https://b.example.com', TRUSTED_PROXIES: '' }, dir);
    expect(config.corsOrigins).toEqual(['https://b.example.com']);
    expect(config.trustedProxies).toEqual([]);
  });

  it('names each bad key of the file, all at once', () => {
    const dir = write({
      sources: [
        { name: 'Bad Name', scheme: 'github' },
        { name: 'ok', scheme: 'nope', maxAgeSeconds: -5, allowedIps: ['x'] },
        { name: 'ok', scheme: 'github', secretEnv: '1BAD' },
      ],
      corsOrigins: ['*'],
    });
    const text = problemsOf({}, dir).join('\n');
    expect(text).toContain('sources[0].name');
    expect(text).toContain('sources[1].scheme');
    expect(text).toContain('sources[1].maxAgeSeconds');
    expect(text).toContain('sources[1].allowedIps');
    expect(text).toContain('sources[2].name');
    expect(text).toContain('sources[2].secretEnv');
    expect(text).toContain('corsOrigins');
  });

  it('refuses a short key in the variable a source\'s secretEnv names', () => {
    const dir = write({ sources: [{ name: 'github', scheme: 'github', secretEnv: 'GH_SECRET' }] });
    expect(problemsOf({ GH_SECRET: `${TEST_SECRETS.github}, tiny` }, dir)).toEqual(['GH_SECRET: key #2 of 2 has 4 bytes of key material; at least 16 are needed']);
  });

  it('reports a file that is not JSON', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'hookwarden.config.json'), '{ sources: ');
    expect(problemsOf({}, dir)[0]).toMatch(/hookwarden\.config\.json: is not valid JSON/);
  });
});
