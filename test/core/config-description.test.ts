import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, type ConfigDescription } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { withConfigFile as withFile } from '../helpers/config-file.js';
import { emptyDir } from '../helpers/harness.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const DOCUMENT = {
  sources: [
    { name: 'github', scheme: 'github', secretEnv: 'GH_SECRET', allowedIps: [' 192.30.252.0/22 '], rateLimit: ' 600/60s ' },
    {
      name: 'billing',
      scheme: 'hmac',
      secretArn: 'billing-keys',
      generateSecret: false,
      hmac: { header: 'x-sig', timestampHeader: 'x-ts', template: '{timestamp}.{body}' },
      clientRateLimit: '60/1m',
      maxAgeSeconds: 120,
    },
  ],
  corsOrigins: ['https://app.example.com'],
  trustedProxies: ['10.0.0.0/8'],
  acceptRisks: ['hmac-template-without-separator'],
};

describe('one configuration model: the parser’s description (issue 10)', () => {
  it('describes the file as plain JSON in its own keys, every default filled in, no secret value read', () => {
    const { description, problems, origin } = describeConfig({}, withFile(DOCUMENT));
    expect(problems).toEqual([]);
    expect(origin).toMatch(/hookwarden\.config\.json$/);
    expect(description).toEqual<ConfigDescription>({
      sources: [
        {
          name: 'github',
          scheme: 'github',
          secretEnv: 'GH_SECRET',
          generateSecret: true,
          allowedIps: ['192.30.252.0/22'],
          maxAgeSeconds: 300,
          maxBodyBytes: 1_048_576,
          retentionSeconds: 604_800,
          rateLimit: '600/60s',
        },
        {
          name: 'billing',
          scheme: 'hmac',
          secretArn: 'billing-keys',
          generateSecret: false,
          hmac: { header: 'x-sig', timestampHeader: 'x-ts', template: '{timestamp}.{body}' },
          allowedIps: [],
          maxAgeSeconds: 120,
          maxBodyBytes: 1_048_576,
          retentionSeconds: 604_800,
          clientRateLimit: '60/1m',
        },
      ],
      corsOrigins: ['https://app.example.com'],
      trustedProxies: ['10.0.0.0/8'],
      acceptRisks: ['hmac-template-without-separator'],
    });
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
  });

  it('reads its own description back unchanged: the description is a valid config document', () => {
    const first = describeConfig({}, withFile(DOCUMENT)).description;
    const again = describeConfig({}, withFile(first));
    expect(again.problems).toEqual([]);
    expect(again.description).toEqual(first);
  });

  it('describes the WEBHOOK_* variables as the `default` source whose secrets are in WEBHOOK_SECRET, and reads that back as a file', () => {
    const env = {
      WEBHOOK_SCHEME: 'hmac',
      WEBHOOK_HMAC_HEADER: 'x-sig',
      WEBHOOK_HMAC_TEMPLATE: '{body}',
      WEBHOOK_ALLOWED_IPS: '203.0.113.0/24',
      WEBHOOK_RATE_LIMIT: '10/1s',
      CORS_ORIGINS: 'https://a.example.com',
    };
    const { description } = describeConfig(env, emptyDir());
    expect(description.sources).toEqual([
      {
        name: 'default',
        scheme: 'hmac',
        secretEnv: 'WEBHOOK_SECRET',
        generateSecret: true,
        hmac: { header: 'x-sig', template: '{body}' },
        allowedIps: ['203.0.113.0/24'],
        maxAgeSeconds: 300,
        maxBodyBytes: 1_048_576,
        retentionSeconds: 604_800,
        rateLimit: '10/1s',
      },
    ]);
    // As a file (secretEnv WEBHOOK_SECRET is a use of that variable, not a stray one).
    expect(describeConfig({ WEBHOOK_SECRET: TEST_SECRETS.hmac }, withFile(description)).description).toEqual(description);
  });

  it('is what the server serves: loadConfig builds its sources from the same description', () => {
    const env = { GH_SECRET: TEST_SECRETS.github };
    const cwd = withFile({ ...DOCUMENT, sources: [DOCUMENT.sources[0]] });
    const config = loadConfig(env, cwd);
    expect(config.description).toEqual(describeConfig(env, cwd).description);
    expect(config.sources.get('github')).toMatchObject({
      schemeName: 'github',
      allowedIps: ['192.30.252.0/22'],
      rateLimit: { limit: 600 },
    });
    expect(config.sources.get('github')?.secret).toMatchObject({ kind: 'env', variable: 'GH_SECRET' });
  });

  it('leaves secret values to loadConfig: a short key is its problem, not the description’s', () => {
    const env = { WEBHOOK_SECRET: 'whsec_c2hvcnQ=' };
    expect(describeConfig(env, emptyDir()).problems).toEqual([]);
    expect(() => loadConfig(env, emptyDir())).toThrow(ConfigError);
  });

  it('lists every problem at once, each naming its key', () => {
    const { problems } = describeConfig(
      {},
      withFile({ sources: [{ name: 'Bad', scheme: 'paypal', allowedIps: ['nope'] }], corsOrigins: ['*'] }),
    );
    expect(problems.map((p) => p.replace(/^.*hookwarden\.config\.json /, '').split(':')[0])).toEqual([
      'sources[0].name',
      'sources[0].scheme',
      'sources[0].allowedIps',
      'corsOrigins',
    ]);
  });
});
