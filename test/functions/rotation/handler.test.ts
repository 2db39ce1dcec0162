import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ROTATION_SOURCES_FILE, type RotatedSource } from '../../../core/secrets/rotation-function.js';

const sm = mockClient(SecretsManagerClient);
const dir = mkdtempSync(join(tmpdir(), 'hookwarden-rotation-'));
const saved = { ...process.env };
afterAll(() => {
  sm.restore();
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('the rotation handler', () => {
  // The stack ships the list in the bundle (the environment is limited to 4 KB in all) and names it in the environment.
  it('rotates the sources listed in the file its environment names', async () => {
    const sources: RotatedSource[] = [
      { source: 'team', secretName: 'Hookwarden-prod/team/keys', scheme: 'hmac', mode: 'shared', overlapSeconds: 86_400 },
    ];
    writeFileSync(join(dir, ROTATION_SOURCES_FILE), JSON.stringify(sources));
    Object.assign(process.env, { HOOKWARDEN_ROTATION_SOURCES_FILE: join(dir, ROTATION_SOURCES_FILE), AWS_REGION: 'us-east-1' });
    // The step's first call, once the secret is known to belong to a source: stop there.
    sm.on(DescribeSecretCommand).rejects(new Error('described'));
    vi.resetModules();
    const { handler } = await import('../../../functions/rotation/handler.js');
    const SecretId = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:Hookwarden-prod/team/keys-AbCdEf';
    await expect(handler({ Step: 'createSecret', SecretId, ClientRequestToken: 'version-1' })).rejects.toThrow('described');
    expect(sm.commandCalls(DescribeSecretCommand).map((call) => call.args[0].input.SecretId)).toEqual([SecretId]);
  });

  // Number("5m") was NaN, and a NaN cache period counted every staged key as ready: the provider was switched to a key
  // no function had yet. The webhook function refuses such a value at cold start; so does the rotation function now.
  it.each(['5m', '0', '-300'])('refuses to start with WEBHOOK_SECRET_CACHE_SECONDS=%s, before any Secrets Manager call', async (value) => {
    sm.reset();
    Object.assign(process.env, { WEBHOOK_SECRET_CACHE_SECONDS: value, AWS_REGION: 'us-east-1' });
    vi.resetModules();
    try {
      await expect(import('../../../functions/rotation/handler.js')).rejects.toThrow(
        `WEBHOOK_SECRET_CACHE_SECONDS: must be a whole number from 1 to 86400, got ${JSON.stringify(value)}`,
      );
    } finally {
      delete process.env.WEBHOOK_SECRET_CACHE_SECONDS;
    }
    expect(sm.calls()).toHaveLength(0);
  });
});
