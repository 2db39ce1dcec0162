import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledFunction, localEsbuildVersion, requireLocalEsbuild } from '../../lib/constructs/function-defaults.js';
import { NO_BUNDLING } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A project directory; with `esbuild`, a node_modules/esbuild/package.json of that version. */
const project = (esbuild?: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'hookwarden-esbuild-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), '{}');
  if (esbuild !== undefined) {
    mkdirSync(join(dir, 'node_modules', 'esbuild'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'esbuild', 'package.json'), JSON.stringify({ name: 'esbuild', version: esbuild }));
  }
  return join(dir, 'package.json');
};

/** A PATH with no esbuild on it (npm test puts node_modules/.bin on the PATH). */
const NO_PATH = { PATH: '/nonexistent' };

describe('the local esbuild the functions are bundled with', () => {
  it('is found as NodejsFunction finds it: installed beside aws-cdk-lib, else on the PATH', () => {
    expect(localEsbuildVersion()).toMatch(/^0\.\d+\.\d+$/);
    expect(localEsbuildVersion({ from: project('0.21.5'), env: NO_PATH })).toBe('0.21.5');
    expect(localEsbuildVersion({ from: project(), env: NO_PATH })).toBeUndefined();
    const bin = join(process.cwd(), 'node_modules', '.bin');
    expect(localEsbuildVersion({ from: project(), env: { PATH: bin } })).toMatch(/^0\.\d+\.\d+$/);
  });

  it('missing, fails a synth that bundles with what to install, instead of switching to Docker', () => {
    const stack = new Stack(new App(), 'Bundles');
    expect(() => requireLocalEsbuild(stack, () => undefined)).toThrow(
      /bundles its functions with a local esbuild, never Docker, and this project has none: .*npm install --save-dev esbuild/,
    );
    expect(() => requireLocalEsbuild(stack, () => '0.28.2')).not.toThrow();
  });

  it('is required by every function Hookwarden bundles: each is made by bundledFunction, which fails before NodejsFunction runs', () => {
    const stack = new Stack(new App(), 'Bundles');
    // No entry at all: were NodejsFunction reached, it would fail on that instead.
    expect(() => bundledFunction(stack, 'Fn', {}, () => undefined)).toThrow(/local esbuild, never Docker/);
    expect(stack.node.children).toHaveLength(0);
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
      );
    // Outside comments: a construct that made its own NodejsFunction would skip the check.
    const makers = sources(join(process.cwd(), 'lib')).filter((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => /new NodejsFunction\(/.test(line) && !/^\s*(\*|\/\/)/.test(line)),
    );
    expect(makers.map((file) => file.slice(process.cwd().length + 1))).toEqual(['lib/constructs/function-defaults.ts']);
  });

  it('missing, does not fail a stack that skips bundling (cdk destroy, cdk ls, another stack --exclusively)', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Skips');
    expect(() => requireLocalEsbuild(stack, () => undefined)).not.toThrow();
  });
});
