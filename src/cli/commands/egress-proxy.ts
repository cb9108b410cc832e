import { isAbsolute } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { egressPathsOf } from '../../network/egress-paths.js';

/**
 * `mino _egress-proxy DIR` (hidden): the egress proxy process of one session, started detached by
 * `mino run` with the session's egress directory; and `mino _egress-proxy-remote`, the command of a
 * remote session's proxy container (with `--control`: a control request exec'd into it). Not for
 * people.
 */
export function registerEgressProxy(program: Command): void {
  program
    .command('_egress-proxy', { hidden: true })
    .description("a session's egress proxy (started by mino run)")
    .argument('<dir>', "the session's egress directory")
    .action(async (dir: string) => {
      if (!isAbsolute(dir)) throw new UsageError('_egress-proxy needs an absolute directory');
      // Loaded here: the proxy's modules (http, dns) have no place in the start-up snapshot.
      const { runEgressProxy } = await import('../../network/proxy/proxy-main.js');
      await runEgressProxy(egressPathsOf(dir));
      process.exit(0);
    });
  // The proxy container of a session on a remote engine (network/remote-egress.ts).
  program
    .command('_egress-proxy-remote', { hidden: true })
    .description("a remote session's egress proxy (the command of its proxy container)")
    .option('--control', 'pass one control request (stdin) to the running proxy of this container')
    .action(async (options: { control?: boolean }) => {
      if (options.control) {
        // `podman exec` from mino here (network/remote-control.ts).
        const { runRemoteControl } = await import('../../network/remote-control.js');
        process.exit(await runRemoteControl());
      }
      const { runRemoteEgressProxy } = await import('../../network/proxy/remote-proxy-main.js');
      await runRemoteEgressProxy();
      process.exit(0);
    });
}
