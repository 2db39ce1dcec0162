import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configurationProblems, productionChecklist } from '../../lib/checklist';
import { prodSettings, settingsFor } from './helpers';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the production checklist', () => {
  it('passes a safe production configuration', () => {
    expect(productionChecklist(prodSettings())).toEqual([]);
  });

  it.each([
    ['missing CORS origins', prodSettings({ corsOrigins: [] }), /^CORS origins: none/],
    ['a wildcard CORS origin', prodSettings({ corsOrigins: ['*'] }), /^CORS origins: .*wildcard/],
    ['a non-https CORS origin', prodSettings({ corsOrigins: ['http://app.example.com'] }), /^CORS origins: .*not https/],
    ['no alarm email', prodSettings({ alarmEmail: undefined }), /^Alarms: no alarmEmail/],
    ['a source without a secret', prodSettings({ sources: [{ ...settingsFor().sources[0]!, generateSecret: false }] }), /^Secrets: source "default" has no secret/],
    ['debug on', prodSettings({ debug: true }), /^Debug: debug is on/],
    ['WAF disabled without acknowledgement', prodSettings({ wafEnabled: false }), /^WAF: disabled without an acknowledgement/],
  ])('refuses %s', (_name, settings, item) => {
    const failing = productionChecklist(settings);
    expect(failing).toHaveLength(1);
    expect(failing[0]).toMatch(item);
  });

  it('accepts WAF disabled with an acknowledgement', () => {
    expect(productionChecklist(prodSettings({ wafEnabled: false, wafDisabledAcknowledged: 'behind CloudFront + WAF' }))).toEqual([]);
  });

  it('refuses invalid sources in any stage', () => {
    const problems = configurationProblems(settingsFor({ sources: [{ ...settingsFor().sources[0]!, name: 'Bad Name', scheme: 'paypal', allowedIps: ['nope'], rateLimit: 'lots' }] }));
    expect(problems.join('\n')).toMatch(/name must be lower-case[\s\S]*unknown scheme[\s\S]*rateLimit[\s\S]*allowedIps/);
  });

  it('makes `cdk synth -c stage=prod` exit non-zero, listing every failing item by name', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'hookwarden.ts')], {
      cwd: ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ stage: 'prod', corsOrigins: '*', wafEnabled: 'false', debug: 'true' }), CDK_OUTDIR: join(ROOT, '.tmp', 'cdk-refused') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    for (const item of ['CORS origins', 'Alarms', 'Debug', 'WAF']) expect(result.stderr).toContain(`  - ${item}:`);
  });
});
