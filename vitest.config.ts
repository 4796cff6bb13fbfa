import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The namespace-lab tests measure failure detection in real time (heartbeats of 200 ms, timeouts of 1 s):
    // they run afterwards, one file at a time, with the machine to themselves (vitest.netlab.config.ts).
    exclude: ['**/node_modules/**', 'test/**/*.netlab.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: integration tests start real broker processes, so keep parallelism modest.
    maxWorkers: 2,
  },
});
