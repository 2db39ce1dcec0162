import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, DeploymentRefused } from '../../lib/app';
import { NO_BUNDLING } from './helpers';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'hookwarden-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The "Deploy to AWS" section shows a config file and a refusal: both must stay true.
describe('docs/deploy.md', () => {
  it('shows a config file that deploys to prod as documented', () => {
    const example = /```json\n([\s\S]*?)```/.exec(DOC)?.[1] as string;
    writeFileSync(join(dir, 'hookwarden.config.json'), example);
    const { settings } = createApp({ appProps: { context: { ...NO_BUNDLING, stage: 'prod', alarmEmail: 'ops@example.com' } }, env: {}, cwd: dir });
    expect(settings.sources.map((s) => s.name)).toEqual(['github', 'stripe', 'billing']);
  });

  it('shows the refusal the app prints', () => {
    const shown = /Refusing to synthesize the prod stack:\n((?: {2}- .*\n)+)/.exec(DOC)?.[1]?.trimEnd().split('\n') as string[];
    let message = '';
    try {
      createApp({ appProps: { context: { ...NO_BUNDLING, stage: 'prod', corsOrigins: '*', wafEnabled: 'false' } }, env: {}, cwd: mkdtempSync(join(dir, 'empty-')) });
    } catch (error) {
      if (!(error instanceof DeploymentRefused)) throw error;
      message = error.message;
    }
    expect(message.split('\n').slice(1)).toEqual(shown);
  });
});
