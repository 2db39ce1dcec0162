import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { emptyDir } from './harness.js';

export const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'hookwarden-cli.mjs');
const BASE_ENV = { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

/** What a finished command printed and returned. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as a user would: a separate process, its own cwd and environment. */
export const cli = (args: string[], env: Record<string, string> = {}, cwd = emptyDir()): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** A running `npm start` (bin/server.ts) on a free port, with what it printed so far. */
export interface RunningServer {
  readonly process: ChildProcess;
  readonly output: () => string;
}

/** Starts bin/server.ts as `npm start` would, waiting for its banner. */
export const startServer = async (env: Record<string, string>, cwd: string): Promise<RunningServer> => {
  const loader = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, join(ROOT, 'bin', 'server.ts')], {
    cwd,
    env: { ...BASE_ENV, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  child.stderr?.on('data', (d: Buffer) => (printed += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${printed}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      printed += d.toString();
      if (printed.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { process: child, output: () => printed };
};
