import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Integration tests share one Podman engine; files run one at a time to keep timings sane
    // on a 2-core machine, tests inside a file run in order.
    fileParallelism: false,
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/neutral-cwd.ts'],
    reporters: ['default'],
  },
});
