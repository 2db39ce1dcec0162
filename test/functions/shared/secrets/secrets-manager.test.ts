import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../../../functions/shared/errors';
import { parseSecretDocument, secretsManagerProviders } from '../../../../functions/shared/secrets/secrets-manager';

// Secrets Manager has no local server: aws-sdk-client-mock stands in for it.
const sm = mockClient(SecretsManagerClient);
const SOURCE = { kind: 'secretsManager', secretId: 'arn:aws:secretsmanager:us-east-1:1:secret:hookwarden/default', cacheSeconds: 300 } as const;
const doc = (keys: Array<{ secret: string; notAfter?: number }>) => ({ SecretString: JSON.stringify({ keys }) });

describe('secretsManagerProviders', () => {
  let clock = 1_800_000_000_000;
  const now = () => clock;
  beforeEach(() => {
    sm.reset();
    clock = 1_800_000_000_000;
  });

  it('reads the secret once per cache period, shared by concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'a' }]));
    const provider = secretsManagerProviders(new SecretsManagerClient({}), { now })(SOURCE);
    await Promise.all(Array.from({ length: 20 }, () => provider.current()));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock += 299_000;
    await provider.current();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock += 2_000;
    await provider.current();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('returns every key valid now, dropping expired ones, as the same array until the set changes', async () => {
    const expiry = clock / 1000 + 60;
    sm.on(GetSecretValueCommand).resolves(doc([{ secret: 'new' }, { secret: 'old', notAfter: expiry }]));
    const provider = secretsManagerProviders(new SecretsManagerClient({}), { now })(SOURCE);
    const first = await provider.current();
    expect(first).toEqual(['new', 'old']);
    expect(await provider.current()).toBe(first);
    clock += 61_000;
    expect(await provider.current()).toEqual(['new']);
  });

  it('keeps serving the last good value when a refresh fails', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(doc([{ secret: 'a' }])).rejects(new Error('throttled'));
    const provider = secretsManagerProviders(new SecretsManagerClient({}), { now })(SOURCE);
    await provider.current();
    clock += 301_000;
    expect(await provider.current()).toEqual(['a']);
  });

  it('answers 503 when nothing is cached and the read fails, or the document is malformed', async () => {
    sm.on(GetSecretValueCommand).rejects(new Error('AccessDenied'));
    const provider = secretsManagerProviders(new SecretsManagerClient({}), { now })(SOURCE);
    await expect(provider.current()).rejects.toMatchObject({ statusCode: 503, code: 'unavailable' });
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'plain-text-secret' });
    const malformed = secretsManagerProviders(new SecretsManagerClient({}), { now })(SOURCE);
    const error = await malformed.current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(String((error as Error).message) + String((error as Error).cause)).not.toContain('plain-text-secret');
  });

  it.each([undefined, '', 'not json', '{}', '{"keys":[]}', '{"keys":[{"secret":""}]}', '{"keys":[{"secret":"x","notAfter":"soon"}]}'])(
    'refuses the document %j',
    (text) => {
      expect(() => parseSecretDocument(text)).toThrow();
    },
  );
});

describe('parseSecretDocument', () => {
  it('counts the generated top-level secret as a key, next to listed ones', () => {
    expect(parseSecretDocument('{"keys":[],"secret":"generated"}').keys).toEqual([{ secret: 'generated' }]);
    expect(parseSecretDocument('{"keys":[{"secret":"new"}],"secret":"generated"}').keys.map((k) => k.secret)).toEqual(['new', 'generated']);
  });
});
