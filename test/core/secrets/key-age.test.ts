import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { currentKeyAgeSeconds, rotateCommandFor } from '../../../core/secrets/key-age.js';

const sm = mockClient(SecretsManagerClient);
afterAll(() => sm.restore());
const client = new SecretsManagerClient({ region: 'us-east-1' });
const NOW = 1_900_000_000;

describe('the daily key-age check', () => {
  it('measures the key the provider signs with (not the staged one, not a retiring one) from its createdAt', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        keys: [
          { secret: 'a'.repeat(32), createdAt: NOW - 91 * 86_400 },
          { secret: 'b'.repeat(32), createdAt: NOW - 60, next: true },
          { secret: 'c'.repeat(32), createdAt: NOW - 400 * 86_400, notAfter: NOW + 60 },
        ],
      }),
      CreatedDate: new Date((NOW - 10) * 1000),
    });
    expect(await currentKeyAgeSeconds(client, 'x', NOW)).toBe(91 * 86_400);
  });

  it("falls back to the version's creation date for a document without createdAt (as the stack generates it)", async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ keys: [], secret: 'GeneratedAtDeploy0123456789abcdef' }),
      CreatedDate: new Date((NOW - 3 * 86_400) * 1000),
    });
    expect(await currentKeyAgeSeconds(client, 'x', NOW)).toBe(3 * 86_400);
  });

  // The emergency stop empties the document: the check failed on it every day (KeyAgeErrors), as on a malformed one.
  it('measures an emptied document ({"keys":[]}) from the version\'s creation date, rather than failing', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"keys":[]}', CreatedDate: new Date((NOW - 2 * 86_400) * 1000) });
    expect(await currentKeyAgeSeconds(client, 'x', NOW)).toBe(2 * 86_400);
  });

  it('names the exact command in the alarm', () => {
    expect(rotateCommandFor('stripe', 'Hookwarden-prod')).toBe('hookwarden rotate stripe --stack Hookwarden-prod --secret-env NEW_SECRET');
    expect(rotateCommandFor('stripe', 'Prod-Webhooks', 'eu-west-1')).toBe(
      'AWS_REGION=eu-west-1 hookwarden rotate stripe --stack Prod-Webhooks --secret-env NEW_SECRET',
    );
  });
});
