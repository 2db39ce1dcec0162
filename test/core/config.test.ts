import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, requireSecrets } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { wireDependencies } from '../../core/wiring.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/** A GitHub hook secret is any text: only its being configured tells it apart. */
const GITHUB_PASTED = 'correct horse battery staple 2024';

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
    const source = loadConfig({ ...GOOD, WEBHOOK_RATE_LIMIT: '600/60s', WEBHOOK_CLIENT_RATE_LIMIT: '100/1m' }, emptyDir()).sources.get(
      'default',
    );
    expect(source?.rateLimit).toEqual({ limit: 600, windowSeconds: 60 });
    expect(source?.clientRateLimit).toEqual({ limit: 100, windowSeconds: 60 });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      WEBHOOK_MAX_AGE: 'x',
      WEBHOOK_ALLOWED_IPS: 'nope',
      CORS_ORIGINS: '*',
      DEBUG: 'perhaps',
      TRUSTED_PROXIES: '1.2.3',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['WEBHOOK_MAX_AGE', 'WEBHOOK_ALLOWED_IPS', 'CORS_ORIGINS', 'DEBUG', 'TRUSTED_PROXIES']),
    );
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });

  it.each([
    ['github', 'Str0ngRandomSecretValue,x', 'key #2 of 2 has 1 byte of key material; at least 16 are needed'],
    ['shopify', 'fifteen-chars!!', 'key #1 of 1 has 15 bytes of key material; at least 16 are needed'],
    ['stripe', 'whsec_short1', 'key #1 of 1 has 12 bytes of key material; at least 16 are needed'],
    ['standard-webhooks', 'whsec_c2hvcnQ=', 'key #1 of 1 has 5 bytes of key material; at least 16 are needed'],
    ['standard-webhooks', 'whsec_AA==', 'key #1 of 1 has 1 byte of key material; at least 16 are needed'],
  ])('refuses a %s key shorter than 16 bytes, naming WEBHOOK_SECRET and its position, never its value', (scheme, secret, message) => {
    const problems = problemsOf({ WEBHOOK_SCHEME: scheme, WEBHOOK_SECRET: secret });
    expect(problems).toEqual([`WEBHOOK_SECRET: ${message}`]);
  });

  it('never echoes a secret in a problem', () => {
    const problems = problemsOf({ WEBHOOK_SECRET: 'whsec_!!!not-base64-but-secret!!!' });
    expect(problems.join('\n')).not.toContain('not-base64-but-secret');
  });

  /** A secret pasted into the wrong variable (a swapped line of a .env file): the problem that refuses it names the variable, never the value. */
  const PASTED = [
    ['a Standard Webhooks secret', TEST_SECRETS.standardWebhooks],
    ['a Shopify secret', TEST_SECRETS.shopify],
    ['a random base64 key', 'q7Xv2LmN9pQ4rS8tU1wY3zA6bC0dE5fG'],
    ['a hex key', '8f742231b10e8888abcd9900ff1185a5'],
    ['a GitHub token', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
  ] as const;
  it.each(
    PASTED.flatMap(([kind, secret]) =>
      (['WEBHOOK_ALLOWED_IPS', 'TRUSTED_PROXIES', 'CORS_ORIGINS', 'WEBHOOK_MAX_AGE', 'WEBHOOK_SCHEME', 'DEBUG'] as const).map(
        (variable) => [kind, variable, secret] as const,
      ),
    ),
  )('never echoes %s pasted into %s', (_kind, variable, secret) => {
    const problems = problemsOf({ ...GOOD, [variable]: secret });
    expect(problems.some((problem) => problem.startsWith(`${variable}: `))).toBe(true);
    const text = problems.join('\n');
    for (let i = 0; i + 12 <= secret.length; i += 1) expect(text).not.toContain(secret.slice(i, i + 12));
  });

  /** An origin copied from a browser's address bar or a deploy URL: its credentials are not the origin's, and not to be echoed. */
  it.each([
    ['user:password', 'https://deploy:pw-horse-battery-staple-42@app.example.com', 'pw-horse-battery-staple-42'],
    ['a token in the query', 'https://app.example.com/?token=tok-orange-lantern-river-7', 'tok-orange-lantern-river-7'],
  ])('never echoes the credentials of an origin given with %s (CORS_ORIGINS)', (_kind, origin, credential) => {
    const problems = problemsOf({ ...GOOD, CORS_ORIGINS: origin });
    expect(problems.some((problem) => problem.startsWith('CORS_ORIGINS: '))).toBe(true);
    const text = problems.join('\n');
    expect(text).toContain('app.example.com');
    for (let i = 0; i + 12 <= credential.length; i += 1) expect(text).not.toContain(credential.slice(i, i + 12));
  });

  it('a ConfigError built anywhere (npm start, the reader, the CDK constructs) quotes no value shaped like a secret', () => {
    const error = new ConfigError([
      `PORT: must be a port number, got "${TEST_SECRETS.standardWebhooks}"`,
      'CORS_ORIGINS: "*" is not allowed',
    ]);
    expect(error.problems).toEqual(['PORT: must be a port number, got "[redacted]"', 'CORS_ORIGINS: "*" is not allowed']);
    expect(error.message).not.toContain('MfKQ9r8GKYqr');
  });

  it('never echoes a configured secret that another problem quotes (a secret also pasted into a key name)', () => {
    const dir = emptyDir();
    writeFileSync(
      join(dir, 'hookwarden.config.json'),
      JSON.stringify({ sources: [{ name: 'shop', scheme: 'github', secretEnv: 'SHOP_SECRET', [GITHUB_PASTED]: 1 }] }),
    );
    const text = problemsOf({ SHOP_SECRET: GITHUB_PASTED }, dir).join('\n');
    expect(text).toContain('unknown key');
    expect(text).not.toContain(GITHUB_PASTED.slice(0, 12));
  });

  it.each([',', ' , ', ',,\t'])('refuses a WEBHOOK_ALLOWED_IPS of commas and spaces alone (%j), which would allow any address', (value) => {
    expect(problemsOf({ ...GOOD, WEBHOOK_ALLOWED_IPS: value })).toEqual([
      'WEBHOOK_ALLOWED_IPS: lists no address, only commas and spaces: list the addresses and ranges, or unset it to allow any address',
    ]);
  });

  it('refuses a range with host bits set in the allowlist or the trusted proxies, naming both readings, rather than widen it', () => {
    // 10.0.0.1/8 read as its network allowed 16 million addresses where one (or a /24) was most likely meant.
    expect(problemsOf({ ...GOOD, WEBHOOK_ALLOWED_IPS: '10.0.0.1/8, 2001:db8::1/32, 192.0.2.0/24, 198.51.100.7/32' })).toEqual([
      'WEBHOOK_ALLOWED_IPS: "10.0.0.1/8" has host bits set: write 10.0.0.0/8 for the whole range, or 10.0.0.1 for the one address',
      'WEBHOOK_ALLOWED_IPS: "2001:db8::1/32" has host bits set: write 2001:db8::/32 for the whole range, or 2001:db8::1 for the one address',
    ]);
    expect(problemsOf({ ...GOOD, TRUSTED_PROXIES: '10.1.2.3/16' })).toEqual([
      'TRUSTED_PROXIES: "10.1.2.3/16" has host bits set: write 10.1.0.0/16 for the whole range, or 10.1.2.3 for the one address',
    ]);
    const config = loadConfig({ ...GOOD, WEBHOOK_ALLOWED_IPS: '10.0.0.0/8,0.0.0.0/1', HOOKWARDEN_ACCEPT_RISKS: '' }, emptyDir());
    expect(config.sources.get('default')?.allowedIps).toEqual(['10.0.0.0/8', '0.0.0.0/1']);
  });

  it('reads an empty WEBHOOK_ALLOWED_IPS as unset (any address), and names one bad entry once', () => {
    expect(loadConfig({ ...GOOD, WEBHOOK_ALLOWED_IPS: '' }, emptyDir()).sources.get('default')?.allowedIps).toEqual([]);
    expect(loadConfig({ ...GOOD, WEBHOOK_ALLOWED_IPS: ' 10.0.0.1 ,, ' }, emptyDir()).sources.get('default')?.allowedIps).toEqual([
      '10.0.0.1',
    ]);
    expect(problemsOf({ ...GOOD, WEBHOOK_ALLOWED_IPS: 'nope,' })).toEqual([
      'WEBHOOK_ALLOWED_IPS: "nope" is not an IP address or CIDR range',
    ]);
  });

  it.each([
    [{ NODE_ENV: 'production' }, true],
    [{ DEBUG: 'false' }, true],
    [{ NODE_ENV: 'development' }, false],
    [{ DEBUG: 'true' }, false],
    [{}, false],
    [{ NODE_ENV: 'test' }, false],
    [{ NODE_ENV: 'Development' }, false],
    [{ NODE_ENV: 'production', DEBUG: 'true' }, true],
    [{ NODE_ENV: 'development', DEBUG: 'false' }, true],
    // Unclear settings fail closed: a NODE_ENV that is neither development nor test is production.
    [{ NODE_ENV: 'prod' }, true],
    [{ NODE_ENV: 'Production' }, true],
    [{ NODE_ENV: ' production ' }, true],
    [{ NODE_ENV: 'staging' }, true],
    [{ NODE_ENV: 'staging', DEBUG: 'true' }, true],
    [{ NODE_ENV: '' }, false],
    // Inside Lambda (a team's own function) no NODE_ENV is production, unless DEBUG=true asks for the details.
    [{ AWS_LAMBDA_FUNCTION_NAME: 'team-webhook' }, true],
    [{ AWS_LAMBDA_FUNCTION_NAME: 'team-webhook', NODE_ENV: '' }, true],
    [{ AWS_LAMBDA_FUNCTION_NAME: 'team-webhook', DEBUG: 'true' }, false],
    [{ AWS_LAMBDA_FUNCTION_NAME: 'team-webhook', NODE_ENV: 'development' }, false],
  ])('production mode for %o is %s', (env, production) => {
    expect(loadConfig({ ...GOOD, ...env }, emptyDir()).production).toBe(production);
  });

  // The message said "must be true or false" while 1/0 and yes/no were read too, as the README says.
  it('names every spelling DEBUG takes when it refuses one', () => {
    expect(problemsOf({ ...GOOD, DEBUG: 'maybe' })).toContain('DEBUG: must be true or false (or 1/0, yes/no), got "maybe"');
    for (const value of ['1', 'YES', 'no', '0']) expect(() => loadConfig({ ...GOOD, DEBUG: value }, emptyDir())).not.toThrow();
  });

  it('refuses to run without a secret where there is no development fallback', () => {
    const config = loadConfig({}, emptyDir());
    expect(() => requireSecrets(config)).toThrow(/WEBHOOK_SECRET/);
  });

  // A function (withHookwarden, the webhook function) said only what loadConfig found; the missing secret came a deploy later.
  const wiringProblems = (env: Record<string, string>): readonly string[] => {
    try {
      wireDependencies({ env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('lists a missing secret with every other problem where there is no development fallback', () => {
    expect(wiringProblems({ WEBHOOK_MAX_AGE: '1e3' })).toEqual([
      'WEBHOOK_MAX_AGE: must be a whole number from 1 to 86400, got "1e3"',
      'WEBHOOK_SECRET: is not set',
    ]);
    const document = {
      sources: [
        { name: 'a', scheme: 'github', secretEnv: 'A_SECRET', maxAgeSeconds: -5 },
        { name: 'b', scheme: 'github' },
      ],
    };
    expect(wiringProblems({ HOOKWARDEN_CONFIG_JSON: JSON.stringify(document) })).toEqual([
      'HOOKWARDEN_CONFIG_JSON sources[0].maxAgeSeconds: must be a whole number from 1 to 86400, got -5',
      'HOOKWARDEN_CONFIG_JSON source "a": has no secret: its secretEnv, A_SECRET, is not set',
      'HOOKWARDEN_CONFIG_JSON source "b": has no secret (set secretEnv or secretArn)',
    ]);
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

  // The secret itself pasted into secretEnv was echoed in the problem: on the terminal, in CI logs.
  it.each([
    ['a secret with + and /', 'k3y+with/slashes=='],
    ['a whsec_ secret, a valid variable name by its letters', TEST_SECRETS.standardWebhooks],
  ])('refuses %s in secretEnv without showing it', (_, value) => {
    const text = problemsOf({}, write({ sources: [{ name: 'a', scheme: 'standard-webhooks', secretEnv: value }] })).join('\n');
    expect(text).toContain('sources[0].secretEnv: must name the environment variable that holds the secret');
    expect(text).not.toContain(value);
    expect(text).not.toContain(value.slice(6, 20));
  });

  it("refuses a short key in the variable a source's secretEnv names", () => {
    const dir = write({ sources: [{ name: 'github', scheme: 'github', secretEnv: 'GH_SECRET' }] });
    expect(problemsOf({ GH_SECRET: `${TEST_SECRETS.github}, tiny` }, dir)).toEqual([
      'GH_SECRET: key #2 of 2 has 4 bytes of key material; at least 16 are needed',
    ]);
  });

  it('reports a file that is not JSON', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'hookwarden.config.json'), '{ sources: ');
    expect(problemsOf({}, dir)[0]).toMatch(/hookwarden\.config\.json: is not valid JSON/);
  });

  // V8's message quotes the text around the error: a secret pasted unquoted into the file was shown.
  it('says where a file is not JSON without quoting its text', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'hookwarden.config.json'), `{ "sources": [{ "name": "a", "secretEnv": ${TEST_SECRETS.standardWebhooks} }] }`);
    const [problem] = problemsOf({}, dir);
    expect(problem).toMatch(/hookwarden\.config\.json: is not valid JSON \(Unexpected token/);
    // V8 quotes about ten characters on each side: 'whsec_MfKQ' was in the message.
    expect(problem).not.toContain('whsec_');
  });

  // JSON.parse keeps the last of two equal keys: a second "allowedIps": [] (a merge, a paste) dropped the allowlist in silence.
  it('refuses a key given twice in one object, naming where, rather than keep the last', () => {
    const dir = emptyDir();
    writeFileSync(
      join(dir, 'hookwarden.config.json'),
      `{
        "sources": [
          { "name": "a", "scheme": "github", "secretEnv": "A_SECRET", "allowedIps": ["203.0.113.0/24"], "allowedIps": [] },
          { "name": "b", "scheme": "hmac", "secretEnv": "B_SECRET", "hmac": { "header": "x-sig", "header": "x-sig" }, "n\u0061me": "c" }
        ],
        "trustedProxies": ["10.0.0.0/8"],
        "trustedProxies": ["0.0.0.0/0"],
        "acceptRisks": ["trust-any-proxy"]
      }`,
    );
    const file = join(dir, 'hookwarden.config.json');
    const env = { A_SECRET: TEST_SECRETS.github, B_SECRET: TEST_SECRETS.hmac };
    expect(problemsOf(env, dir)).toEqual([
      `${file} sources[0].allowedIps: is given twice in one object; JSON keeps only the last, so remove the one not meant`,
      `${file} sources[1].hmac.header: is given twice in one object; JSON keeps only the last, so remove the one not meant`,
      `${file} sources[1].name: is given twice in one object; JSON keeps only the last, so remove the one not meant`,
      `${file} trustedProxies: is given twice in one object; JSON keeps only the last, so remove the one not meant`,
    ]);
    // Equal keys in different objects, and keys that only look alike, are fine.
    writeFileSync(
      file,
      '{"sources":[{"name":"a","scheme":"github","secretEnv":"A_SECRET"},{"name":"b","scheme":"github","secretEnv":"A_SECRET","Name":1}]}',
    );
    expect(problemsOf(env, dir)).toEqual([`${file} sources[1].Name: unknown key; the nearest known key is "name"`]);
  });

  // The inline document won in silence: the file HOOKWARDEN_CONFIG names, its allowlists with it, was never read.
  it('refuses HOOKWARDEN_CONFIG and HOOKWARDEN_CONFIG_JSON together, as only one of them could be read', () => {
    const dir = write({ sources: [{ name: 'a', scheme: 'github', secretEnv: 'A_SECRET', allowedIps: ['203.0.113.0/24'] }] });
    const inline = JSON.stringify({ sources: [{ name: 'a', scheme: 'github', secretEnv: 'A_SECRET' }] });
    const env = { A_SECRET: TEST_SECRETS.github, HOOKWARDEN_CONFIG: 'hookwarden.config.json', HOOKWARDEN_CONFIG_JSON: inline };
    expect(problemsOf(env, dir)).toEqual([
      `HOOKWARDEN_CONFIG_JSON: is set, and so is HOOKWARDEN_CONFIG (${join(dir, 'hookwarden.config.json')}), which would not be read; unset one of them`,
    ]);
    // The inline document alone beside a file HOOKWARDEN_CONFIG does not name (the CDK app checks its bundled one so) is read.
    expect(loadConfig({ A_SECRET: TEST_SECRETS.github, HOOKWARDEN_CONFIG_JSON: inline }, dir).sources.get('a')?.allowedIps).toEqual([]);
  });

  // A FIFO (or a device) as the config path blocked the start on the read, with no message.
  it('refuses a config path that is not a regular file, without reading it', () => {
    const dir = emptyDir();
    execFileSync('mkfifo', [join(dir, 'hookwarden.config.json')]);
    expect(problemsOf({}, dir)).toEqual([`${join(dir, 'hookwarden.config.json')}: is not a regular file`]);
  });
});

describe('hmac options sign what they check (issue 7 item 2)', () => {
  const HMAC = { WEBHOOK_SCHEME: 'hmac', WEBHOOK_SECRET: TEST_SECRETS.hmac, WEBHOOK_HMAC_HEADER: 'x-signature' };

  it('refuses WEBHOOK_HMAC_TIMESTAMP_HEADER when WEBHOOK_HMAC_TEMPLATE has no {timestamp}, naming both', () => {
    const problems = problemsOf({ ...HMAC, WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-ts' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^WEBHOOK_HMAC_TIMESTAMP_HEADER: is set but WEBHOOK_HMAC_TEMPLATE has no \{timestamp\}/);
  });

  it('refuses WEBHOOK_HMAC_ID_HEADER when WEBHOOK_HMAC_TEMPLATE has no {id}, naming both', () => {
    const problems = problemsOf({ ...HMAC, WEBHOOK_HMAC_ID_HEADER: 'x-id', WEBHOOK_HMAC_TEMPLATE: '{body}' });
    expect(problems).toEqual([expect.stringMatching(/^WEBHOOK_HMAC_ID_HEADER: is set but WEBHOOK_HMAC_TEMPLATE has no \{id\}/)]);
  });

  it('accepts headers whose placeholders are signed', () => {
    const config = loadConfig(
      { ...HMAC, WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-ts', WEBHOOK_HMAC_ID_HEADER: 'x-id', WEBHOOK_HMAC_TEMPLATE: '{id}.{timestamp}.{body}' },
      emptyDir(),
    );
    expect(config.sources.get('default')?.schemeName).toBe('hmac');
  });

  it("refuses the same in the file's hmac object, naming both keys", () => {
    const dir = writeConfig({
      sources: [
        {
          name: 'billing',
          scheme: 'hmac',
          secretEnv: 'S',
          hmac: { header: 'x-sig', timestampHeader: 'x-ts', idHeader: 'x-id', template: '{timestamp}.{body}' },
        },
      ],
    });
    const problems = problemsOf({ S: TEST_SECRETS.hmac }, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('sources[0].hmac.idHeader: is set but');
    expect(problems[0]).toContain('sources[0].hmac.template has no {id}');
  });
});

const writeConfig = (document: unknown): string => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'hookwarden.config.json'), JSON.stringify(document));
  return dir;
};

describe('the config file is checked key by key (issue 8)', () => {
  const SOURCE = { name: 'github', scheme: 'github', secretEnv: 'GH_SECRET' };
  const ENV = { GH_SECRET: TEST_SECRETS.github };

  it.each([
    [
      'a top-level key',
      { sources: [SOURCE], trustedProxy: [] },
      'hookwarden.config.json trustedProxy: unknown key; the nearest known key is "trustedProxies"',
    ],
    [
      'a source key',
      { sources: [{ ...SOURCE, allowedIP: ['192.30.252.0/22'] }] },
      'sources[0].allowedIP: unknown key; the nearest known key is "allowedIps"',
    ],
    [
      'an hmac key',
      { sources: [{ ...SOURCE, scheme: 'hmac', hmac: { header: 'x-sig', timestampHeaders: 'x-ts' } }] },
      'sources[0].hmac.timestampHeaders: unknown key; the nearest known key is "timestampHeader"',
    ],
  ])('refuses an unknown key at every level: %s', (_, document, message) => {
    expect(problemsOf(ENV, writeConfig(document)).join('\n')).toContain(message);
  });

  it.each([
    ['maxAgeSeconds', { maxAgeSeconds: '300' }, 'sources[0].maxAgeSeconds: must be a number from 1 to 86400, got "300"'],
    ['maxBodyBytes', { maxBodyBytes: true }, 'sources[0].maxBodyBytes: must be a number'],
    ['retentionSeconds', { retentionSeconds: [7] }, 'sources[0].retentionSeconds: must be a number'],
    ['allowedIps', { allowedIps: '10.0.0.0/8' }, 'sources[0].allowedIps: must be an array of strings'],
    ['rateLimit', { rateLimit: 600 }, 'sources[0].rateLimit: must be a string'],
    ['secretEnv', { secretEnv: 42 }, 'sources[0].secretEnv: must be an environment variable name, got 42'],
    ['generateSecret', { generateSecret: 'no' }, 'sources[0].generateSecret: must be true or false, got "no"'],
    ['hmac', { scheme: 'hmac', hmac: 'x-sig' }, 'sources[0].hmac: must be an object'],
    ['hmac.prefix', { scheme: 'hmac', hmac: { header: 'x-sig', prefix: 1 } }, 'sources[0].hmac.prefix: must be a string, got 1'],
  ])('checks the type of %s', (_, fields, message) => {
    expect(problemsOf(ENV, writeConfig({ sources: [{ ...SOURCE, ...fields }] })).join('\n')).toContain(message);
  });

  it('refuses hmac options on a source whose scheme is not hmac', () => {
    const problems = problemsOf(ENV, writeConfig({ sources: [{ ...SOURCE, hmac: { header: 'x-sig' } }] }));
    expect(problems.join('\n')).toContain('sources[0].hmac: is read only with "scheme": "hmac"');
  });

  it('reports the name and the scheme of one source together', () => {
    const problems = problemsOf(ENV, writeConfig({ sources: [{ ...SOURCE, name: 'GitHub', scheme: 'gitlab', maxAgeSeconds: 'soon' }] }));
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      expect.stringContaining('sources[0].name'),
      expect.stringContaining('sources[0].scheme'),
      expect.stringContaining('sources[0].maxAgeSeconds'),
    ]);
  });

  it.each(['WEBHOOK_SECRET', 'WEBHOOK_SCHEME', 'WEBHOOK_ALLOWED_IPS', 'WEBHOOK_MAX_AGE', 'WEBHOOK_RATE_LIMIT', 'WEBHOOK_HMAC_HEADER'])(
    'refuses %s beside a config file, naming both',
    (variable) => {
      const problems = problemsOf(
        { ...ENV, [variable]: variable === 'WEBHOOK_SECRET' ? TEST_SECRETS.standardWebhooks : 'x' },
        writeConfig({ sources: [SOURCE] }),
      );
      expect(problems).toEqual([
        expect.stringMatching(new RegExp(`^${variable}: is set, but the sources come from .*hookwarden\\.config\\.json`)),
      ]);
    },
  );

  it('accepts WEBHOOK_SECRET beside a config file when a source names it in secretEnv', () => {
    const config = loadConfig(
      { WEBHOOK_SECRET: TEST_SECRETS.github },
      writeConfig({ sources: [{ ...SOURCE, secretEnv: 'WEBHOOK_SECRET' }] }),
    );
    expect(config.sources.get('github')?.secret).toMatchObject({ variable: 'WEBHOOK_SECRET' });
  });

  it.each(['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'aws_access_key_id'])(
    'refuses secretEnv %s (an AWS credential is never a webhook secret)',
    (variable) => {
      const problems = problemsOf(
        { [variable]: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
        writeConfig({ sources: [{ ...SOURCE, secretEnv: variable }] }),
      );
      expect(problems).toEqual([expect.stringContaining(`sources[0].secretEnv: "${variable}" is an AWS variable`)]);
    },
  );
});

describe('dangerous values need an acknowledgement (issue 8)', () => {
  const SOURCE = { name: 'github', scheme: 'github', secretEnv: 'GH_SECRET' };
  const ENV = { GH_SECRET: TEST_SECRETS.github };
  const HMAC_SOURCE = {
    name: 'billing',
    scheme: 'hmac',
    secretEnv: 'GH_SECRET',
    hmac: { header: 'x-sig', timestampHeader: 'x-ts', template: '{timestamp}{body}' },
  };

  it.each([
    [
      'TRUSTED_PROXIES 0.0.0.0/0',
      { ...GOOD, TRUSTED_PROXIES: '10.0.0.0/8, 0.0.0.0/0' },
      'trust-any-proxy',
      /^TRUSTED_PROXIES: "0\.0\.0\.0\/0" trusts X-Forwarded-For from every address/,
    ],
    ['TRUSTED_PROXIES ::/0', { ...GOOD, TRUSTED_PROXIES: '::/0' }, 'trust-any-proxy', /^TRUSTED_PROXIES: "::\/0" trusts/],
    [
      'an allowlist entry /0',
      { ...GOOD, WEBHOOK_ALLOWED_IPS: '0.0.0.0/0' },
      'allow-any-ip',
      /^WEBHOOK_ALLOWED_IPS: "0\.0\.0\.0\/0" allows every address/,
    ],
    [
      'an allowlist whose halves cover IPv4',
      { ...GOOD, WEBHOOK_ALLOWED_IPS: '128.0.0.0/1, 10.0.0.1, 0.0.0.0/1' },
      'allow-any-ip',
      /^WEBHOOK_ALLOWED_IPS: together, its IPv4 ranges allow every address/,
    ],
    [
      'trusted proxies that cover IPv6 in pieces',
      { ...GOOD, TRUSTED_PROXIES: '::/1, 8000::/2, c000::/2' },
      'trust-any-proxy',
      /^TRUSTED_PROXIES: together, its IPv6 ranges trust X-Forwarded-For from every address/,
    ],
    [
      'an hmac template without separator',
      {
        WEBHOOK_SCHEME: 'hmac',
        WEBHOOK_SECRET: TEST_SECRETS.hmac,
        WEBHOOK_HMAC_HEADER: 'x-sig',
        WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-ts',
        WEBHOOK_HMAC_TEMPLATE: '{timestamp}{body}',
      },
      'hmac-template-without-separator',
      /^WEBHOOK_HMAC_TEMPLATE: puts \{timestamp\} and \{body\} side by side/,
    ],
  ])('refuses %s unless HOOKWARDEN_ACCEPT_RISKS names it', (_, env, risk, message) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems).toEqual([expect.stringMatching(message)]);
    expect(problems[0]).toContain(`"${risk}"`);
    expect(loadConfig({ ...env, HOOKWARDEN_ACCEPT_RISKS: risk }, emptyDir()).acceptedRisks).toEqual([risk]);
  });

  it.each(['0.0.0.0/1, 128.0.0.0/2', '0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3', '::/1, 8000::/2, c000::/3', '10.0.0.0/8', '::/1'])(
    'does not take ranges that leave an address out for every address: %s',
    (allowed) => {
      expect(loadConfig({ ...GOOD, WEBHOOK_ALLOWED_IPS: allowed }, emptyDir()).acceptedRisks).toEqual([]);
    },
  );

  it('refuses them in the file unless its acceptRisks names them', () => {
    const document = { sources: [{ ...SOURCE, allowedIps: ['::/0'] }, HMAC_SOURCE], trustedProxies: ['0.0.0.0/0'] };
    const text = problemsOf(ENV, writeConfig(document)).join('\n');
    expect(text).toContain('sources[0].allowedIps: "::/0" allows every address');
    expect(text).toContain('sources[1].hmac.template: puts {timestamp} and {body} side by side');
    expect(text).toContain('trustedProxies: "0.0.0.0/0" trusts X-Forwarded-For');
    const accepted = loadConfig(
      ENV,
      writeConfig({ ...document, acceptRisks: ['allow-any-ip', 'hmac-template-without-separator', 'trust-any-proxy'] }),
    );
    expect(accepted.trustedProxies).toEqual(['0.0.0.0/0']);
  });

  it('names the nearest risk for an unknown acknowledgement', () => {
    expect(problemsOf({ ...GOOD, HOOKWARDEN_ACCEPT_RISKS: 'trust-any-proxies' })).toEqual([
      expect.stringContaining('HOOKWARDEN_ACCEPT_RISKS: unknown risk "trust-any-proxies"; the nearest is "trust-any-proxy"'),
    ]);
  });
});

describe('a delivery is remembered as long as a copy of it stays fresh', () => {
  const HMAC_TIMESTAMPED = {
    WEBHOOK_HMAC_HEADER: 'x-sig',
    WEBHOOK_HMAC_TIMESTAMP_HEADER: 'x-ts',
    WEBHOOK_HMAC_TEMPLATE: '{timestamp}.{body}',
  };
  // A signed timestamp is accepted from maxAge before now to maxAge after: a copy stays fresh for
  // up to twice maxAge after the first one arrives. A record kept less long lets a replay (or a
  // late retry) past the replay guard, stored and processed a second time.
  it.each([
    ['standard-webhooks', {}],
    ['stripe', { WEBHOOK_SECRET: TEST_SECRETS.stripe }],
    ['slack', { WEBHOOK_SECRET: TEST_SECRETS.slack }],
    ['hmac', { WEBHOOK_SECRET: TEST_SECRETS.hmac, ...HMAC_TIMESTAMPED }],
  ])('%s: refuses a retention shorter than twice the maximum age, naming both', (scheme, env) => {
    const base = { ...GOOD, WEBHOOK_SCHEME: scheme, ...env, WEBHOOK_MAX_AGE: '300' };
    expect(problemsOf({ ...base, WEBHOOK_RETENTION_SECONDS: '599' })).toEqual([
      expect.stringMatching(/^WEBHOOK_RETENTION_SECONDS: must be at least twice WEBHOOK_MAX_AGE \(600 s\).*got 599$/),
    ]);
    expect(loadConfig({ ...base, WEBHOOK_RETENTION_SECONDS: '600' }, emptyDir()).sources.get('default')?.retentionSeconds).toBe(600);
  });

  it('leaves a scheme without a signed timestamp alone (its replay window is the retention, as documented)', () => {
    const github = { WEBHOOK_SCHEME: 'github', WEBHOOK_SECRET: TEST_SECRETS.github, WEBHOOK_RETENTION_SECONDS: '60' };
    expect(loadConfig(github, emptyDir()).sources.get('default')?.retentionSeconds).toBe(60);
    const hmac = {
      WEBHOOK_SCHEME: 'hmac',
      WEBHOOK_SECRET: TEST_SECRETS.hmac,
      WEBHOOK_HMAC_HEADER: 'x-sig',
      WEBHOOK_RETENTION_SECONDS: '60',
    };
    expect(loadConfig(hmac, emptyDir()).sources.get('default')?.retentionSeconds).toBe(60);
  });

  it('checks each source of the file with its own keys', () => {
    const document = { sources: [{ name: 'stripe', scheme: 'stripe', secretEnv: 'S', maxAgeSeconds: 3600, retentionSeconds: 3600 }] };
    expect(problemsOf({ S: TEST_SECRETS.stripe }, writeConfig(document))).toEqual([
      expect.stringContaining('sources[0].retentionSeconds: must be at least twice maxAgeSeconds (7200 s): '),
    ]);
  });
});
