import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { decodeKey } from '../../core/secrets/keys.js';
import { withDevelopmentSecrets } from '../../local/dev-secrets.js';
import { emptyDir } from '../helpers/harness.js';

type Keys = { keys: Array<{ id: string; secret: string; createdAt: number; next?: boolean; notAfter?: number }> };

describe('development secrets', () => {
  it('replaces a saved key the server would refuse (under 16 bytes) instead of serving every request a 503', () => {
    const dataDir = emptyDir();
    writeFileSync(join(dataDir, 'dev-secrets.json'), JSON.stringify({ 'default:github': 'short' }), { mode: 0o600 });
    const loaded = loadConfig({ WEBHOOK_SCHEME: 'github' }, emptyDir());
    const { config, generated } = withDevelopmentSecrets(loaded, dataDir);
    const secret = config.sources.get('default')?.secret;
    expect(secret).toEqual({ kind: 'keyFile', secretId: join(dataDir, 'keys', 'default.json'), cacheSeconds: 300 });
    const document = JSON.parse(readFileSync(join(dataDir, 'keys', 'default.json'), 'utf8')) as Keys;
    const current = document.keys[0]?.secret as string;
    expect(current).not.toBe('short');
    expect(() => decodeKey(loaded.sources.get('default')!.scheme, current)).not.toThrow();
    expect(generated.get('default')).toBe(current);
  });

  it('keeps a source without a secret variable in a key document of the data directory (0600, the Secrets Manager format), with the next key staged', () => {
    const dataDir = emptyDir();
    const loaded = loadConfig({}, emptyDir());
    const { generated } = withDevelopmentSecrets(loaded, dataDir, 30);
    const path = join(dataDir, 'keys', 'default.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const document = JSON.parse(readFileSync(path, 'utf8')) as Keys;
    expect(document.keys).toHaveLength(2);
    expect(document.keys[0]).toMatchObject({ id: expect.stringMatching(/^k-[0-9a-f]{8}$/), secret: generated.get('default') });
    expect(document.keys[0]?.next).toBeUndefined();
    expect(document.keys[1]).toMatchObject({ id: expect.stringMatching(/^k-[0-9a-f]{8}$/), next: true });
    expect(document.keys[1]?.secret).toMatch(/^whsec_/);
    // A restart keeps the document as it is.
    withDevelopmentSecrets(loadConfig({}, emptyDir()), dataDir, 30);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(document);
  });
});
