import { isAbsolute } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { egressPathsOf } from '../../network/egress-paths.js';

/**
 * `mino _egress-proxy DIR` (hidden): the egress proxy process of one session, started detached by
 * `mino run` with the session's egress directory. Not for people.
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
}
