import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { Problems } from '../../core/config/rules.js';
import { GUARDED_VARIABLES, mistypedVariables, OTHER_VARIABLES } from '../../core/config/variables.js';
import { ConfigError } from '../../core/errors.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const GOOD = { WEBHOOK_SECRET: TEST_SECRETS.standardWebhooks };

const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadConfig(env, emptyDir());
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('a mistyped variable, which would be ignored', () => {
  it.each([
    ['WEBHOOK_ALLOWED_IP', '10.0.0.1', 'WEBHOOK_ALLOWED_IPS'],
    ['WEBHOOK_RATE_LIMTI', '10/60s', 'WEBHOOK_RATE_LIMIT'],
    ['webhook_max_age', '60', 'WEBHOOK_MAX_AGE'],
    ['CORS_ORIGIN', 'https://app.example.com', 'CORS_ORIGINS'],
    ['TRUSTED_PROXY', '10.0.0.1', 'TRUSTED_PROXIES'],
    ['HOOKWARDEN_CONFIGG', 'hookwarden.config.json', 'HOOKWARDEN_CONFIG'],
  ])('%s is refused, naming %s', (name, value, meant) => {
    // Ignored, an allowlist or a limit was simply not applied, and the server started as if it had been.
    expect(problemsOf({ ...GOOD, [name]: value })).toEqual([
      `${name}: is not a variable Hookwarden reads, so it is ignored; did you mean ${meant}? ` +
        'If it belongs to another program, list it in HOOKWARDEN_UNRELATED_VARIABLES',
    ]);
  });

  it("is left alone once HOOKWARDEN_UNRELATED_VARIABLES names it as another program's, and only that one", () => {
    // Another app's CORS_ORIGIN in the same shell: without a way to say so, npm start could not run beside it.
    const env = { ...GOOD, CORS_ORIGIN: 'http://localhost:5173', HOOKWARDEN_UNRELATED_VARIABLES: ' CORS_ORIGIN , TRUSTED_PROXYS' };
    expect(problemsOf(env)).toEqual([]);
    expect(loadConfig(env, emptyDir()).corsOrigins).toEqual([]);
    expect(problemsOf({ ...env, TRUSTED_PROXY: '10.0.0.1', cors_origin: 'x' }).map((p) => p.split(':')[0])).toEqual([
      'TRUSTED_PROXY',
      'cors_origin',
    ]);
  });

  it('refuses an HOOKWARDEN_UNRELATED_VARIABLES entry that is no variable name, or one Hookwarden reads', () => {
    expect(problemsOf({ ...GOOD, HOOKWARDEN_UNRELATED_VARIABLES: 'CORS_ORIGINS,CORS ORIGIN,WEBHOOK_SECRET' })).toEqual([
      'HOOKWARDEN_UNRELATED_VARIABLES: CORS_ORIGINS is a variable Hookwarden reads, so it cannot be unrelated',
      'HOOKWARDEN_UNRELATED_VARIABLES: "CORS ORIGIN" is not a variable name',
      'HOOKWARDEN_UNRELATED_VARIABLES: WEBHOOK_SECRET is a variable Hookwarden reads, so it cannot be unrelated',
    ]);
  });

  it("leaves alone other tools' variables, Lambda's, Hookwarden's own, and one a source names in secretEnv", () => {
    const env = {
      ...GOOD,
      WEBHOOK_URL: 'https://hooks.example.com/x',
      GITHUB_WEBHOOK_SECRET: 'x',
      WEBHOOK_SECRET2: 'x',
      HOOKWARDEN_CONFIG_FILE: 'x',
      AWS_LAMBDA_FUNCTION_NAME: 'hookwarden-webhook',
      AWS_REGION: 'us-east-1',
      _X_AMZN_TRACE_ID: 'Root=1',
      WEBHOOK_SECRET_CACHE_SECONDS: '300',
      HOOKWARDEN_STREAM_RATE_LIMIT: '30/14m',
      CORS_ORIGINS: '',
    };
    expect(problemsOf(env)).toEqual([]);
    const file = { sources: [{ name: 'billing', scheme: 'standard-webhooks', secretEnv: 'WEBHOOK_SCHEMA' }] };
    expect(problemsOf({ HOOKWARDEN_CONFIG_JSON: JSON.stringify(file), WEBHOOK_SCHEMA: TEST_SECRETS.standardWebhooks })).toEqual([]);
  });

  it('finds every typo of each guarded name within its limit (2 edits, 3 from 15 characters), whatever its cheap bounds rule out first', () => {
    // The per-character bound that spares the edit distance must never rule out a real near miss.
    const typos = (name: string): string[] =>
      [...name].flatMap((char, i) => [
        name.slice(0, i) + name.slice(i + 1),
        `${name.slice(0, i)}${char === 'X' ? 'Y' : 'X'}${name.slice(i + 1)}`,
        `${name.slice(0, i)}Z${name.slice(i)}`,
        `${name.slice(0, i)}${name[i + 1] ?? ''}${char}${name.slice(i + 2)}`,
        name.slice(0, i).toLowerCase() + name.slice(i),
        // As many substitutions as the name's limit allows (2, or 3 from 15 characters): the bound at its edge.
        `${name.slice(0, i)}${'Q'.repeat(name.length >= 15 ? 3 : 2)}${name.slice(i + (name.length >= 15 ? 3 : 2))}`,
      ]);
    const missed: string[] = [];
    for (const guarded of GUARDED_VARIABLES) {
      const env = Object.fromEntries(
        typos(guarded)
          .filter((typo) => typo !== guarded)
          .map((typo) => [typo, 'x']),
      );
      const problems = new Problems();
      mistypedVariables(problems, env, []);
      const flagged = new Set(problems.items.map((item) => item.slice(0, item.indexOf(':'))));
      // A typo that is itself another known variable (WEBHOOK_SECRET from WEBHOOK_SECRETS, say) is rightly left alone.
      missed.push(
        ...Object.keys(env).filter((typo) => !flagged.has(typo) && ![...GUARDED_VARIABLES, ...OTHER_VARIABLES].includes(typo as never)),
      );
    }
    expect(missed).toEqual([]);
  });

  it("knows every variable of Hookwarden's that the code reads, so that none is taken for a typo", () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
      );
    const read = new Set<string>();
    for (const dir of ['core', 'local', 'cli', 'lib', 'functions', 'bin'])
      for (const file of files(join(process.cwd(), dir)))
        for (const match of readFileSync(file, 'utf8').matchAll(/env(?:\.|\[['"`])((?:WEBHOOK|HOOKWARDEN|CORS|TRUSTED)_[A-Z0-9_]+)/g))
          read.add(match[1] as string);
    expect(read.size).toBeGreaterThan(20);
    const known = new Set<string>([...GUARDED_VARIABLES, ...OTHER_VARIABLES]);
    expect([...read].filter((name) => !known.has(name))).toEqual([]);
  });
});
