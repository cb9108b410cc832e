import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/helpers/slow-first-sequencer.js';

/**
 * Test files that remove or retag images of the shared engines. They run first, one at a time
 * (each holds `exclusive('image-store')`), beside the unit tests and the OWN_ENGINES files only:
 * podman 4.3 fails an image listing (and `mino run` lists images: its cache budget check) while
 * another command removes an image ("locating image with ID …: image not known"). The unit tests
 * never call podman, so they fill the workers these files leave idle.
 */
const ALONE = [
  'test/integration/runtime/container-runtime.test.ts',
  'test/integration/layer/run-layers.test.ts',
  'test/integration/layer/compose-image.test.ts',
  'test/integration/image/base-image.test.ts',
];

/**
 * Test files whose podman work is on engines of their own (throwaway users' stores; they hold
 * exclusive('throwaway-users')): an image removed from the shared engines cannot break their
 * listings, so they run in the first group too, on the workers the ALONE files leave idle once the
 * unit tests are done, instead of lengthening the second group.
 */
const OWN_ENGINES = [
  'test/integration/cli/rootless-storage.test.ts',
  'test/integration/cli/new-user.test.ts',
  'test/integration/cli/engine-state.test.ts',
  'test/integration/runtime/system-reset.test.ts',
];

const perFile = {
  testTimeout: 120_000,
  hookTimeout: 300_000,
  setupFiles: ['test/helpers/neutral-cwd.ts'],
};

export default defineConfig({
  test: {
    // Once for the whole run (the projects below do not inherit it).
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default'],
    // Longest files first, the same order on a fresh clone (recorded durations).
    sequence: { sequencer: SlowFirstSequencer },
    maxWorkers: 3,
    projects: [
      {
        test: {
          name: 'first',
          include: [...ALONE, ...OWN_ENGINES, 'test/unit/**/*.test.ts'],
          ...perFile,
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      // The other integration tests three files at a time on the shared Podman engines (most of an integration
      // test's time is spent waiting on podman and on the containers); tests inside a file run
      // in order. Files that make throwaway Unix users take turns (test/helpers/exclusive.ts);
      // each file's podman objects have names and labels of its own.
      {
        test: {
          name: 'side-by-side',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...ALONE, ...OWN_ENGINES],
          ...perFile,
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
