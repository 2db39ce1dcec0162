import { inject } from 'vitest';
// Every test file starts from the environment of a clean shell, as in CI. The README has a developer export
// WEBHOOK_SECRET (and the hardening guide's other variables) in the shell they run `npm start` from, and the same
// shell may run `npm test`: a setting left there must not change what the tests see, nor what the servers and
// command lines they start inherit.
// In any letter case, and CORS_/TRUSTED_ whole: a near miss of a Hookwarden variable (CORS_ORIGIN) is a configuration error.
const PREFIXES = ['WEBHOOK_', 'HOOKWARDEN_', 'POWERTOOLS_', 'AWS_ENDPOINT_URL', 'CORS_', 'TRUSTED_'];
const NAMES = ['CORS_ORIGINS', 'TRUSTED_PROXIES', 'DEBUG', 'PORT', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE'];

for (const name of Object.keys(process.env)) {
  if (PREFIXES.some((prefix) => name.toUpperCase().startsWith(prefix)) || NAMES.includes(name) || name.endsWith('_WEBHOOK_SECRET'))
    delete process.env[name];
}
// Temporary files go to the run's own directory (test/setup/log-scan.ts), which is removed after the run; CDK's
// synth (cdk.out…), dynalite and every process a test starts take it from TMPDIR.
const runTmpDir = inject('runTmpDir');
process.env.TMPDIR = runTmpDir;
// As vitest sets it when the shell has none: a production NODE_ENV would hide the reasons the tests read.
process.env.NODE_ENV = 'test';
