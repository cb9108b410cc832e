import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/helpers/slow-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Three files at a time on the shared Podman engines (most of an integration test's time is
    // spent waiting on podman and on the containers). Tests inside a file run in order. Files
    // that change what other files see hold it alone (test/helpers/exclusive.ts); each file's
    // podman objects have names and labels of its own.
    fileParallelism: true,
    maxWorkers: 3,
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/neutral-cwd.ts'],
    reporters: ['default'],
  },
});
