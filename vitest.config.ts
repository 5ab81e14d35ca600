import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs keeps global engine state: isolate test files in their own processes.
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    // One file more than cores (vitest's default is one fewer): much of a file's time is spent waiting on the CLI,
    // its trial processes, a lease, a stall timeout or a browser.
    maxWorkers: availableParallelism() + 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
