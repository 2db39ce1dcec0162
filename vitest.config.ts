import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CI is 2 cores, and a synth or a child process can take tens of seconds there.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup/capture-logs.ts'],
    globalSetup: ['test/setup/log-scan.ts'],
    env: {
      // Node 20 is what this machine has; the SDK's upgrade notice is noise in test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
