import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// One bundled CommonJS file per entry (CommonJS loads ~8 ms faster than ESM on Node 20), with
// every dependency inside (one file loads faster than a module graph of small files: commander
// costs ~15 ms bundled vs ~40 ms from node_modules on a 2-core machine); zod is used through its
// tree-shakable `zod/mini` build.
// - dist/mino.cjs: what bin/mino runs with the system's Node.
// - dist/mino-sea.cjs: the single executable's snapshot entry (scripts/package-sea.mjs turns it
//   into dist/mino). A startup snapshot's main script must be one file that requires only
//   builtins, hence nothing external here either.
// pino is bundled but stays lazy: CommonJS dependencies are wrapped in functions that run on their
// first require(), and the logger requires pino only when something is logged.
export default defineConfig({
  entry: { mino: 'src/main.ts', 'mino-sea': 'src/sea-main.ts' },
  format: ['cjs'],
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  splitting: false,
  sourcemap: true,
  clean: true,
  minify: true,
  noExternal: [/.*/],
  define: { __MINO_VERSION__: JSON.stringify(pkg.version) },
  // src/image/layers-dir.ts reads import.meta only when it runs as an ES module (vitest).
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
});
