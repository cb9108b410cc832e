import { startupSnapshot } from 'node:v8';
import { useEmbeddedAssets } from './common/embedded-assets.js';
import { main } from './cli/main.js';
import { loadAllCommands } from './cli/program.js';
import { listenAndHandOver, NETNS_LISTEN_ARG } from './network/proxy/netns-listener.js';

/**
 * Entry point of the single executable (dist/mino). scripts/package-sea.mjs runs this bundle once,
 * inside `node --build-snapshot`: module code runs then (so it must not read the environment, the
 * arguments, the clock, the terminal or the file system; test/integration/sea/binary.test.ts checks that), and the heap
 * it leaves is the binary's start-up snapshot. Each start of the binary deserialises that heap and
 * calls {@link start}. Run by plain `node` (tests), it starts at once.
 */
function start(): void {
  // Through getBuiltinModule: the bundler would rewrite an import of 'node:sea' to 'sea', which
  // does not exist (node:sea has no unprefixed name).
  const { getAsset, isSea } = process.getBuiltinModule('node:sea');
  if (isSea()) {
    useEmbeddedAssets((name) => {
      try {
        return new Uint8Array(getAsset(name));
      } catch {
        return undefined; // no such asset
      }
    });
  }
  // The egress proxy's one-shot listener child (see netns-listener.ts): no CLI, no commander.
  if (isSea() && process.argv[2] === NETNS_LISTEN_ARG) listenAndHandOver();
  else void main(process.argv.slice(2));
}

if (startupSnapshot.isBuildingSnapshot()) {
  // The command modules load on demand (cli/program.ts); here their module code runs once, ahead,
  // so the snapshot holds them and no start of the binary pays for it.
  void loadAllCommands();
  startupSnapshot.setDeserializeMainFunction(start);
} else start();
