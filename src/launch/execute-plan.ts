import { log } from '../common/logger.js';
import { STOP_TIMEOUT_SECONDS } from '../config/defaults.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { RunPlan } from './run-plan.js';

/**
 * The one place a session container is started: `podman run` attached to this terminal (the
 * command's exit code comes back), or detached (the container ID comes back). Nothing else:
 * recording the session and explaining failures are the caller's.
 */

/** How an execution ended. */
export type Execution =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'detached'; containerId: string };

/** Where termination signals come from (the process, or a test). */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void;
  off(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void;
}

/** Seconds after a SIGINT before mino stops a container whose command ignored it. */
export const INTERRUPT_GRACE_MS = 5000;

/** Starts the plan's container and waits for it when it is attached. */
export async function executePlan(runtime: ContainerRuntime, plan: RunPlan, signals: SignalSource = process): Promise<Execution> {
  if (!plan.attached) return { kind: 'detached', containerId: await runtime.run(plan.spec) };
  const release = stopOnSignals(runtime, plan.containerName, signals);
  try {
    return { kind: 'exited', exitCode: await runtime.runAttached(plan.spec) };
  } finally {
    release();
  }
}

/**
 * While an attached run lasts: SIGTERM and SIGHUP stop the container (podman stop: SIGTERM to the
 * command through --init, SIGKILL after STOP_TIMEOUT_SECONDS); SIGINT is left to podman's signal
 * proxy, which hands it to the command, with a stop as fallback if the container is still up
 * INTERRUPT_GRACE_MS later; a second signal kills it. Returns a function that removes the handlers.
 */
export function stopOnSignals(runtime: ContainerRuntime, container: string, signals: SignalSource): () => void {
  let count = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    void runtime.stop(container, STOP_TIMEOUT_SECONDS).catch(() => undefined);
  };
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    log.info('signal received', { signal, count });
    if (count > 1) {
      void runtime.kill(container).catch(() => undefined);
    } else if (signal === 'SIGINT') {
      timer = setTimeout(stop, INTERRUPT_GRACE_MS);
      timer.unref();
    } else {
      stop();
    }
  };
  const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of handled) signals.on(s, handler);
  return () => {
    if (timer) clearTimeout(timer);
    for (const s of handled) signals.off(s, handler);
  };
}
