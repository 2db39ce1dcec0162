import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, DeploymentRefused } from '../../lib/app.js';
import { CHECKLIST_ITEMS } from '../../lib/checklist.js';
import { NO_BUNDLING, prodSettings, synth } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

const DOC = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'hookwarden-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The "Deploy to AWS" section shows a config file and a refusal: both must stay true.
describe('docs/deploy.md', () => {
  it('shows a config file that deploys to prod as documented', () => {
    const example = /```json\n([\s\S]*?)```/.exec(DOC)?.[1] as string;
    writeFileSync(join(dir, 'hookwarden.config.json'), example);
    const { settings } = createApp({
      appProps: { context: { ...NO_BUNDLING, stage: 'prod', alarmEmail: 'ops@example.com' } },
      env: {},
      cwd: dir,
    });
    expect(settings.sources.map((s) => s.name)).toEqual(['github', 'stripe', 'billing']);
  });

  it('shows the refusal the app prints', () => {
    const shown = /Refusing to synthesize the prod stack:\n((?: {2}- .*\n)+)/.exec(DOC)?.[1]?.trimEnd().split('\n') as string[];
    let message = '';
    try {
      createApp({
        appProps: { context: { ...NO_BUNDLING, stage: 'prod', corsOrigins: '*', wafEnabled: 'false' } },
        env: {},
        cwd: mkdtempSync(join(dir, 'empty-')),
      });
    } catch (error) {
      if (!(error instanceof DeploymentRefused)) throw error;
      message = error.message;
    }
    expect(message.split('\n').slice(1)).toEqual(shown);
  });

  // REST + WAF: $3.50 + $0.60; HTTP API (frontDoor=http-api): $1.00 and no WAF. Then Lambda $0.20 + $0.17.
  const FRONT_DOORS = [
    { door: 'REST + WAF', table: /^\| request kind \|/m, api: 3.5 + 0.6 },
    { door: 'HTTP API', table: /^\| request kind \(HTTP API\) \|/m, api: 1.0 },
  ];

  it.each(FRONT_DOORS)('prices each request kind as base + writes × 0.625 dollars (the $door cost table adds up)', ({ table, api }) => {
    const money = (value: number) => `$${(Math.round(value * 100 + 1e-9) / 100).toFixed(2)}`;
    const start = DOC.search(table);
    expect(start).toBeGreaterThan(0);
    const end = DOC.indexOf('\n\n', start);
    const section = DOC.slice(start, end === -1 ? undefined : end);
    const rows = [
      ...section.matchAll(
        /^\| (admitted|duplicate|refused|forged)[^|]*\| ([–\d]+) \/ (\d+) \/ (\d+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm,
      ),
    ];
    expect(rows.map((r) => r[1])).toEqual(['admitted', 'duplicate', 'refused', 'forged']);
    for (const row of rows) {
      // A 2xx answer logs about 1.4 KB, a refusal about 2 KB: $0.70 or $1.00 of ingestion.
      const base = api + 0.2 + 0.17 + (row[1] === 'admitted' || row[1] === 'duplicate' ? 0.7 : 1.0);
      [row[2], row[3], row[4]].forEach((writes, i) => {
        const shown = row[5 + i]?.trim();
        expect(shown, `${row[1]} column ${i}`).toBe(writes === '–' ? '–' : money(base + Number(writes) * 0.625));
      });
    }
  });

  it('adds up the HTTP API base and its 2xx and refusal totals', () => {
    const shown =
      /\$1\.00 \+ \$0\.20 \+ \$0\.17 = \$([\d.]+), plus logs: \*\*\$([\d.]+)\*\* for a 2xx answer and \*\*\$([\d.]+)\*\* for a refusal/.exec(
        DOC,
      );
    const base = 1.0 + 0.2 + 0.17;
    expect(shown?.slice(1).map(Number)).toEqual([base, base + 0.7, base + 1.0].map((v) => Math.round(v * 100) / 100));
  });

  it('names every item the production checklist refuses', () => {
    const named = [...DOC.matchAll(/^- \*\*([^*]+)\*\*/gm)].map((m) => m[1]);
    expect(named).toEqual(expect.arrayContaining([...CHECKLIST_ITEMS]));
  });

  it('names only constructs that hookwarden/cdk exports in its "What gets created" table', async () => {
    const table = DOC.slice(
      DOC.indexOf('| construct (`lib/constructs/`) |'),
      DOC.indexOf('\n\n', DOC.indexOf('| construct (`lib/constructs/`) |')),
    );
    const named = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(8);
    const exported = (await import('../../lib/index.js')) as Record<string, unknown>;
    expect(named.filter((name) => typeof exported[name] !== 'function')).toEqual([]);
  });

  it('names every file that acknowledges a cdk-nag finding', () => {
    const files = ['lib', 'lib/constructs'].flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((file) => file.endsWith('.ts') && file !== 'nag.ts')
        .filter((file) => /\backnowledge\(/.test(readFileSync(join(ROOT, dir, file), 'utf8')))
        .map((file) => `${dir}/${file}`),
    );
    expect(files.length).toBeGreaterThan(3);
    const paragraph = DOC.slice(DOC.indexOf('Each acknowledgement covers one construct'), DOC.indexOf('### What gets created'));
    expect(files.filter((file) => !paragraph.includes(`\`${file}\``))).toEqual([]);
  });

  describe('against the prod template (REST, WAF, the default source)', () => {
    const template = synth(prodSettings()).template().toJSON() as { Resources: Record<string, { Type: string }>; Outputs: object };

    it("lists the stack's outputs", () => {
      const paragraph = /^Stack outputs: [\s\S]*?\n\n/m.exec(DOC)?.[0] ?? '';
      const named = new Set([...paragraph.matchAll(/`([A-Za-z0-9<>]+)`/g)].map((m) => (m[1] as string).replace('<source>', 'default')));
      // CDK's RestApi adds its own copy of the URL (`ApiEndpoint…`); the CLI and the docs use ApiUrl.
      const outputs = Object.keys(template.Outputs).filter((key) => !key.startsWith('ApiEndpoint'));
      expect(outputs.filter((key) => !named.has(key))).toEqual([]);
    });

    it('prices the alarms it creates', () => {
      const [, count, price] = /\$0\.10 per standard alarm \((\d+) alarms: \$([\d.]+)[,)]/.exec(DOC) ?? [];
      const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
      expect(Number(count)).toBe(alarms);
      expect(price).toBe((alarms * 0.1).toFixed(2));
    });
  });
});

describe.each(['deploy.md', 'security.md'])('docs/%s', (doc) => {
  it('names only files and folders of the repository that exist', () => {
    const text = readFileSync(join(ROOT, 'docs', doc), 'utf8');
    const paths = [...text.matchAll(/`((?:test|lib|core|functions|local|cli|bin|bench|\.github|\.ci)\/[^`\s]*)`/g)].map(
      (m) => m[1] as string,
    );
    expect(paths.length).toBeGreaterThan(3);
    expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});
