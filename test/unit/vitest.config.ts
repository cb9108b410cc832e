import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Unit tests only: no globalSetup (the main config builds a podman test image first).
 * Run with: npx vitest run -c test/unit/vitest.config.ts
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 20_000,
    reporters: ['default'],
  },
});
