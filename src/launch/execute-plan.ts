import { log } from '../common/logger.js';
import { STOP_TIMEOUT_SECONDS } from '../config/defaults.js';
import type { NetworkRecord } from '../network/network-record.js';
import type { EgressSessionContext, EgressStarter, SessionEgress } from '../network/session-egress.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { RunPlan } from './run-plan.js';

/**
 * The one place a session container is started: `podman run` attached to this terminal (the
 * command's exit code comes back), or detached (the container ID comes back). With an egress
 * policy, the session's proxy is started first (next to `podman run`: the container's hook waits
 * for it) and, for attached runs, finished after the command ended, its final record coming back
 * with the exit code. Nothing else: recording the session and explaining failures are the caller's.
 */

/** How an execution ended. */
export type Execution =
  | { kind: 'exited'; exitCode: number; network?: NetworkRecord; networkError?: Error }
  | { kind: 'detached'; containerId: string };

/** Where termination signals come from (the process, or a test). */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void;
  off(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void;
}

/** How the executor starts a session's egress proxy (the real one, or a test's). */
export interface EgressDeps {
  start: EgressStarter;
  context: EgressSessionContext;
}

/** An error of the egress proxy's start-up, to explain a failed container start. */
export class EgressStartError extends Error {
  constructor(override readonly cause: Error, readonly exitCode?: number) {
    super(cause.message);
    this.name = 'EgressStartError';
  }
}

/** Starts the plan's container (and its egress proxy) and waits for it when it is attached. */
export async function executePlan(runtime: ContainerRuntime, plan: RunPlan, signals: SignalSource = process, egressDeps?: EgressDeps): Promise<Execution> {
  const egressPlan = plan.network.egress;
  if (egressPlan && !egressDeps) throw new Error('Internal error: an egress plan needs an egress starter');
  const egress: SessionEgress | undefined = egressPlan && egressDeps ? egressDeps.start(egressPlan, egressDeps.context) : undefined;
  const explain = async (err: unknown, exitCode?: number): Promise<unknown> => {
    await egress?.ready.catch(() => undefined);
    const failure = egress?.failure();
    await egress?.abort();
    return failure ? new EgressStartError(failure, exitCode) : err;
  };
  if (!plan.attached) {
    try {
      const containerId = await runtime.run(plan.spec);
      egress?.release();
      return { kind: 'detached', containerId };
    } catch (err) {
      throw await explain(err);
    }
  }
  const release = forwardSignals(runtime, plan.containerName, signals);
  let exitCode: number;
  try {
    exitCode = await runtime.runAttached(plan.spec, { ownProcessGroup: !(plan.spec.tty ?? false) });
  } catch (err) {
    throw await explain(err);
  } finally {
    release();
  }
  if (!egress) return { kind: 'exited', exitCode };
  if (exitCode === 125 || exitCode === 126 || exitCode === 127) {
    // podman could not start the container: the proxy's own failure is the better explanation.
    await egress.ready.catch(() => undefined);
    const failure = egress.failure();
    if (failure) {
      await egress.abort();
      throw new EgressStartError(failure, exitCode);
    }
  }
  try {
    return { kind: 'exited', exitCode, network: await egress.finish() };
  } catch (err) {
    return { kind: 'exited', exitCode, networkError: err as Error };
  }
}

/** How often a stop is asked again until the attached run ends (see {@link forwardSignals}). */
export const STOP_RETRY_MS = 1000;

/**
 * mino's one signal policy for an attached run, cold (`podman run`) or in a warm container
 * (`podman exec`). Without a terminal podman runs in a process group of its own, so a Ctrl-C
 * reaches mino only and the command gets exactly one SIGINT; with a terminal Ctrl-C is a key that
 * goes through the container's terminal, and mino only sees signals sent to it:
 * - SIGINT is handed to the command at once (`podman kill -s INT`: the container's main process,
 *   --init or the pool's keeper, passes it on), so a shell ends with 130 and a program that
 *   handles Ctrl-C does so. When there is no running container yet (podman run still creating
 *   it) there is no command to interrupt: the start is stopped as for SIGTERM.
 * - SIGTERM and SIGHUP stop the container (podman stop: SIGTERM to the command, SIGKILL after
 *   STOP_TIMEOUT_SECONDS). A stop that comes while podman run is still creating the container
 *   finds nothing, so it is asked again every STOP_RETRY_MS (never two at once) until the run ends.
 * - A second signal kills the container.
 * Returns a function that removes the handlers.
 */
export function forwardSignals(runtime: ContainerRuntime, container: string, signals: SignalSource): () => void {
  let count = 0;
  let retry: NodeJS.Timeout | undefined;
  let stopping = false;
  let released = false;
  const stopOnce = (): void => {
    if (stopping) return;
    stopping = true;
    void runtime.stop(container, STOP_TIMEOUT_SECONDS).catch(() => undefined).finally(() => {
      stopping = false;
    });
  };
  const stop = (): void => {
    if (released) return;
    stopOnce();
    retry ??= setInterval(stopOnce, STOP_RETRY_MS);
  };
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    log.info('signal received', { signal, count });
    if (count > 1) {
      void runtime.kill(container).catch(() => undefined);
    } else if (signal === 'SIGINT') {
      void runtime.kill(container, 'INT').then((delivered) => {
        if (!delivered) stop();
      }, stop);
    } else {
      stop();
    }
  };
  const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of handled) signals.on(s, handler);
  return () => {
    released = true;
    if (retry) clearInterval(retry);
    for (const s of handled) signals.off(s, handler);
  };
}
