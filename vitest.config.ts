import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CI is 2 cores, and a synth or a child process can take tens of seconds there.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest runs one file at a time on 2 cores (CPUs - 1), and most of this suite waits on timers, sockets and child
    // processes rather than the CPU: two files at a time took the suite from 881 s to 530 s on the 2-core machine.
    maxWorkers: 2,
    minWorkers: 1,
    setupFiles: ['test/setup/clean-env.ts', 'test/setup/capture-logs.ts'],
    globalSetup: ['test/setup/log-scan.ts'],
    env: {
      // Node 20 is what this machine has; the SDK's upgrade notice is noise in test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
