import { readFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/**
 * Keeps execa right inside the single executable's start-up snapshot. execa keeps
 * `[process.stdin, process.stdout, process.stderr]` in a module-level array and compares streams
 * against it (and hands those objects out for `stdout: ['inherit', 'pipe']`). Node replaces the
 * stdio objects when a snapshot is deserialised, so the array would hold the snapshot builder's
 * dead streams: output written to them is lost, and the live `process.stdout` is no longer taken
 * for a standard stream. This rewrites the array into live getters. The build fails if execa's
 * file changes shape, so an upgrade cannot silently bring the problem back.
 */
export const liveExecaStdio: Plugin = {
  name: 'live-execa-stdio',
  setup(build) {
    build.onLoad({ filter: /[\\/]execa[\\/]lib[\\/]utils[\\/]standard-stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const line = 'export const STANDARD_STREAMS = [process.stdin, process.stdout, process.stderr];';
      if (!source.includes(line)) {
        throw new Error(
          `${args.path} changed: check that execa's standard streams survive a start-up snapshot (tsup.config.ts, liveExecaStdio)`,
        );
      }
      const live =
        'export const STANDARD_STREAMS = [];\n' +
        "for (const [index, name] of ['stdin', 'stdout', 'stderr'].entries()) {\n" +
        '  Object.defineProperty(STANDARD_STREAMS, index, {get: () => process[name], enumerable: true});\n' +
        '}';
      return { contents: source.replace(line, live), loader: 'js' };
    });
  },
};

// One bundled CommonJS file per entry (CommonJS loads ~8 ms faster than ESM on Node 20), with
// every dependency inside (one file loads faster than a module graph of small files: commander
// costs ~15 ms bundled vs ~40 ms from node_modules on a 2-core machine); zod is used through its
// tree-shakable `zod/mini` build.
// - dist/mino.cjs: what bin/mino runs with the system's Node.
// - dist/mino-sea.cjs: the single executable's snapshot entry (scripts/package-sea.mjs turns it
//   into dist/mino). A start-up snapshot's main script must be one file that requires only
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
  // __MINO_BUILD__: one identity per build (config-memo.ts keeps what a build checked only for it).
  define: {
    __MINO_VERSION__: JSON.stringify(pkg.version),
    __MINO_BUILD__: JSON.stringify(`${pkg.version}+${Date.now().toString(36)}`),
  },
  esbuildPlugins: [liveExecaStdio],
  // src/image/layers-dir.ts reads import.meta only when it runs as an ES module (vitest).
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
});
