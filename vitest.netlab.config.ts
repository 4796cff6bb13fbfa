import { defineConfig } from 'vitest/config';

/** Group-communication tests in network namespaces (test/netlab): real time, so run alone and in sequence. */
export default defineConfig({
  test: {
    include: ['test/**/*.netlab.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
