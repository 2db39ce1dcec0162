import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

// The workflow is what a team's own CI runs; .ci/run stays the one place that says how to test.
describe('.github: CI workflow and Dependabot', () => {
  const workflow = read('.github/workflows/ci.yml');

  it('runs .ci/run (not its own copy of the steps), the production audit and the SBOM script', () => {
    expect(workflow).toMatch(/^\s+- run: bash \.ci\/run$/m);
    expect(workflow).toMatch(/^\s+- run: npm audit --omit=dev --audit-level=high$/m);
    expect(workflow).toMatch(/^\s+- run: npm run sbom$/m);
    expect(workflow).not.toMatch(/run: npm (test|run lint|run typecheck)/);
    expect(JSON.parse(read('package.json')).scripts.sbom).toMatch(/^npm sbom --sbom-format cyclonedx /);
  });

  it('pins every action by full commit SHA and grants only read access', () => {
    const uses = [...workflow.matchAll(/uses: (\S+)/g)].map((m) => m[1] as string);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    expect(workflow).toMatch(/^permissions:\n {2}contents: read$/m);
  });

  it('has Dependabot watch npm and the workflow actions', () => {
    const dependabot = read('.github/dependabot.yml');
    expect(dependabot).toMatch(/package-ecosystem: npm/);
    expect(dependabot).toMatch(/package-ecosystem: github-actions/);
  });
});
