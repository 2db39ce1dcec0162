import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, requireSecrets } from '../../core/config/index.js';
import { createApp } from '../../lib/app.js';
import { productionChecklist, stageProblems } from '../../lib/checklist.js';
import { BUNDLED_CONFIG_FILE } from '../../lib/constructs/webhook-functions.js';
import { readSettings } from '../../lib/settings.js';
import { withConfigFile as withFile } from '../helpers/config-file.js';
import { emptyDir as dir } from '../helpers/harness.js';
import { NO_BUNDLING, prodSettings, settingsFor } from './helpers.js';

const DOCUMENT = {
  sources: [
    { name: 'github', scheme: 'github', secretEnv: 'GH_SECRET', allowedIps: ['192.30.252.0/22'], rateLimit: '600/60s' },
    {
      name: 'billing',
      scheme: 'hmac',
      hmac: { header: 'x-sig', timestampHeader: 'x-ts', template: '{timestamp}.{body}' },
      clientRateLimit: '60/1m',
    },
    { name: 'stripe', scheme: 'stripe', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-keys-AbCdEf' },
  ],
  corsOrigins: ['https://app.example.com'],
  trustedProxies: ['10.0.0.0/8'],
  acceptRisks: ['allow-any-ip'],
};

describe('one configuration model from the file to the functions (issue 10)', () => {
  it('deploys the parser’s description: the CDK app’s settings are what describeConfig produces', () => {
    const cwd = withFile(DOCUMENT);
    const { settings } = createApp({ appProps: { context: NO_BUNDLING }, env: {}, cwd });
    const { description } = describeConfig({}, cwd);
    expect(settings.sources).toEqual(description.sources);
    expect({ corsOrigins: settings.corsOrigins, trustedProxies: settings.trustedProxies, acceptRisks: settings.acceptRisks }).toEqual({
      corsOrigins: description.corsOrigins,
      trustedProxies: description.trustedProxies,
      acceptRisks: description.acceptRisks,
    });
  });

  it('bundles that description, each secret named by its deployed id, and the functions read it back unchanged with the same parser', () => {
    const cwd = withFile(DOCUMENT);
    const { stack } = createApp({ appProps: { context: NO_BUNDLING }, env: {}, cwd });
    const { description } = describeConfig({}, cwd);
    const bundled = stack.functions.configDocument;
    expect(bundled).toEqual({
      ...description,
      sources: description.sources.map(({ secretEnv: _local, ...source }) => ({ ...source, secretArn: expect.any(String) })),
    });
    // The imported secret keeps its ARN; the others are the stack's own.
    expect(bundled.sources.find((s) => s.name === 'stripe')?.secretArn).toBe(DOCUMENT.sources[2]?.secretArn);
    // Cold start, as in Lambda: the bundled file, the same parser, the same description.
    const taskRoot = dir();
    writeFileSync(join(taskRoot, BUNDLED_CONFIG_FILE), JSON.stringify(bundled));
    const config = requireSecrets(loadConfig({ HOOKWARDEN_CONFIG: BUNDLED_CONFIG_FILE, NODE_ENV: 'production' }, taskRoot));
    expect(config.description).toEqual(bundled);
    expect([...config.sources.values()].map((s) => s.secret?.kind)).toEqual(['secretsManager', 'secretsManager', 'secretsManager']);
  });

  it('bundles the `default` source the WEBHOOK_* variables describe, as the local server reads them', () => {
    const cwd = dir();
    const env = { WEBHOOK_SCHEME: 'hmac', WEBHOOK_HMAC_HEADER: 'x-sig', WEBHOOK_HMAC_TEMPLATE: '{body}' };
    const { stack } = createApp({ appProps: { context: NO_BUNDLING }, env, cwd });
    const { secretEnv: _local, ...local } = describeConfig(env, cwd).description.sources[0] ?? {};
    expect(stack.functions.configDocument.sources).toEqual([{ ...local, secretArn: expect.any(String) }]);
  });
});

describe('the checklist keeps only the production rules (issue 10)', () => {
  it('leaves invalid values to the parser: an invalid origin is the configuration’s problem, named once', () => {
    expect(stageProblems(settingsFor({ corsOrigins: ['*'] }))).toEqual([]);
    expect(productionChecklist(prodSettings({ corsOrigins: ['https://*.example.com'] }))).toEqual([]);
    const { problems } = readSettings((key) => ({ corsOrigins: '*' })[key], {}, dir());
    expect(problems).toEqual([expect.stringMatching(/^CORS origins: "\*" contains a wildcard/)]);
  });

  it('refuses in prod what the parser accepts but production does not', () => {
    expect(productionChecklist(prodSettings({ corsOrigins: ['http://app.example.com'], debug: true }))).toEqual([
      'CORS origins: "http://app.example.com" is not https',
      expect.stringMatching(/^Debug: /),
    ]);
  });
});
