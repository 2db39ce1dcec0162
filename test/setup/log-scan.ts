// Global setup: clears the captured logs before the run; after it, fails the
// run if any captured line holds a test secret, a signature value or a read token.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { TEST_SECRETS } from '../helpers/secrets.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's temporary parent: every test file's TMPDIR (test/setup/clean-env.ts), removed after the run. */
    runTmpDir: string;
  }
}

const dir = join(process.cwd(), '.tmp', 'test-logs');

const SIGNATURE_PATTERNS: readonly RegExp[] = [
  /v1,[A-Za-z0-9+/]{43}=/, // Standard Webhooks
  /sha256=[0-9a-f]{64}/, // GitHub
  /v0=[0-9a-f]{64}/, // Slack
  /v1=[0-9a-f]{64}/, // Stripe
  /whsec_/, // any Standard Webhooks or Stripe secret
  /sig_[0-9a-f]{33,}/, // a delivery id longer than the 128-bit signed-bytes hash: a MAC
  /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/, // a bare hex HMAC-SHA256 (GitHub, Slack, Stripe, hmac without prefix)
  /hwk_[A-Za-z0-9_-]{43}/, // a read token for the deliveries API (its hash is the bare hex above)
];

let runTmpDir: string | undefined;
let startedAt = 0;

/** What this run left in the machine's own temporary directory, outside its run directory: nothing, or a leak. */
const leftInTmp = (): string[] =>
  readdirSync(tmpdir())
    .filter((name) => (name.startsWith('hookwarden-') && !name.startsWith('hookwarden-run-')) || name.startsWith('cdk.out'))
    .filter((name) => (statSync(join(tmpdir(), name), { throwIfNoEntry: false })?.ctimeMs ?? 0) >= startedAt);

export const setup = (project: TestProject): void => {
  rmSync(dir, { recursive: true, force: true });
  // One parent for every temporary directory of this run, removed at the end: each test file's TMPDIR, so what the
  // tests make (emptyDir, dynalite's data, CDK's cdk.out of every synth, Chromium's profile) and what the processes
  // they start make lands in it. The environment is no way to hand it over: clean-env.ts empties HOOKWARDEN_*.
  startedAt = Date.now();
  runTmpDir = mkdtempSync(join(tmpdir(), 'hookwarden-run-'));
  project.provide('runTmpDir', runTmpDir);
};

export const teardown = (): void => {
  if (runTmpDir) rmSync(runTmpDir, { recursive: true, force: true, maxRetries: 3 });
  // Only in CI, where the run is alone on a clean machine: locally another run (watch mode, an older checkout) may be
  // writing there at the same time.
  const leaked = process.env.CI ? leftInTmp() : [];
  if (leaked.length > 0)
    throw new Error(
      `The run left ${leaked.length} temporary entries outside its run directory, in ${tmpdir()}: ${leaked.slice(0, 5).join(', ')}`,
    );
  if (!existsSync(dir)) return;
  const problems: string[] = [];
  let rejections = 0;
  for (const name of readdirSync(dir)) {
    const text = readFileSync(join(dir, name), 'utf8');
    text.split('\n').forEach((line, index) => {
      if (line.includes('"webhook rejected"')) rejections += 1;
      for (const secret of Object.values(TEST_SECRETS)) {
        if (line.includes(secret)) problems.push(`${name}:${index + 1} contains a test secret`);
      }
      for (const pattern of SIGNATURE_PATTERNS) {
        if (pattern.test(line)) problems.push(`${name}:${index + 1} matches ${pattern}`);
      }
    });
  }
  // A scan of nothing proves nothing: the whole suite (npm test) rejects many requests, each logged.
  if (rejections < 10 && process.env.npm_lifecycle_event === 'test')
    problems.push(`only ${rejections} "webhook rejected" log lines were captured; is logging captured?`);
  if (problems.length > 0) {
    throw new Error(`Log scan failed:\n${problems.slice(0, 20).join('\n')}`);
  }
};
