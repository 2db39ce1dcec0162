import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KEY_AGE_SOURCES_FILE, type AgedSource } from '../../../core/secrets/key-age.js';

const sm = mockClient(SecretsManagerClient);
const dir = mkdtempSync(join(tmpdir(), 'hookwarden-key-age-'));
const saved = { ...process.env };
afterAll(() => {
  sm.restore();
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('the key-age handler', () => {
  // The stack ships the list in the bundle (the environment is limited to 4 KB in all) and names it in the environment.
  it('reads the manual sources from the file its environment names, and reads each secret it lists', async () => {
    const sources: AgedSource[] = [
      { source: 'stripe', secretId: 'Hookwarden-prod/stripe/keys' },
      { source: 'billing', secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:billing-AbCdEf' },
    ];
    writeFileSync(join(dir, KEY_AGE_SOURCES_FILE), JSON.stringify(sources));
    Object.assign(process.env, {
      HOOKWARDEN_KEY_AGE_SOURCES_FILE: join(dir, KEY_AGE_SOURCES_FILE),
      AWS_REGION: 'us-east-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ keys: [], secret: 'GeneratedAtDeploy0123456789abcdef' }),
      CreatedDate: new Date(Date.now() - 86_400_000),
    });
    vi.resetModules();
    const { handler } = await import('../../../functions/key-age/handler.js');
    await handler();
    expect(sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId)).toEqual(sources.map((s) => s.secretId));
  });
});
