import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { decodeKey } from '../../core/secrets/keys.js';
import { withDevelopmentSecrets } from '../../local/dev-secrets.js';
import { emptyDir } from '../helpers/harness.js';

describe('development secrets', () => {
  it('replaces a saved key the server would refuse (under 16 bytes) instead of serving every request a 503', () => {
    const dataDir = emptyDir();
    writeFileSync(join(dataDir, 'dev-secrets.json'), JSON.stringify({ 'default:github': 'short' }), { mode: 0o600 });
    const loaded = loadConfig({ WEBHOOK_SCHEME: 'github' }, emptyDir());
    const { config, generated } = withDevelopmentSecrets(loaded, dataDir);
    const secret = config.sources.get('default')?.secret;
    const values = secret?.kind === 'env' ? secret.values : [];
    expect(values).toHaveLength(1);
    expect(values[0]).not.toBe('short');
    expect(() => decodeKey(loaded.sources.get('default')!.scheme, values[0] as string)).not.toThrow();
    expect(generated.get('default')).toBe(values[0]);
  });
});
