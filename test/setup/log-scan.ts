// Global setup: clears the captured logs before the run; after it, fails the
// run if any captured line holds a test secret, a signature value or a read token.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS } from '../helpers/secrets.js';

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

export const setup = (): void => {
  rmSync(dir, { recursive: true, force: true });
  // One parent for every temporary directory of this run (test/helpers/harness emptyDir), removed at the end.
  process.env.HOOKWARDEN_TEST_TMP = mkdtempSync(join(tmpdir(), 'hookwarden-run-'));
};

export const teardown = (): void => {
  if (process.env.HOOKWARDEN_TEST_TMP) rmSync(process.env.HOOKWARDEN_TEST_TMP, { recursive: true, force: true });
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
