import { log } from '../common/logger.js';
import { STOP_TIMEOUT_SECONDS } from '../config/defaults.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';

/**
 * mino's one signal policy for an attached session, used by both strategies of the executor
 * (execute-plan.ts): a cold start (`podman run`) and a warm one (`podman exec` in a claimed pool
 * container).
 */

/** Where termination signals come from (the process, or a test). */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void;
  off(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void;
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
    void runtime
      .stop(container, STOP_TIMEOUT_SECONDS)
      .catch(() => undefined)
      .finally(() => {
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
