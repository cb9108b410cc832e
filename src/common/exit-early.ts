import { trace } from './trace.js';

/**
 * Ending a short-lived command as soon as its work is safe. A Node process that simply runs out
 * of work waits for the last handles to close (a peer's socket hanging up) and then tears its
 * whole heap down (~5–20 ms at the end of every `mino run`); `process.exit` skips both. It is
 * used only when the command asked for it and nothing that still matters is pending: no child
 * process, timer, file request or write (only sockets whose peers have yet to hang up).
 */

/** Kinds of active resources (process.getActiveResourcesInfo) that hold no work of ours. */
const IDLE_KINDS = new Set(['PipeWrap', 'TCPWrap', 'TTYWrap', 'ShutdownWrap', 'SimpleShutdownWrap']);

let asked = false;

/** The command's result is final and recorded: the process may exit once nothing else is pending. */
export function exitWhenIdle(): void {
  asked = true;
}

/** True when every active resource is one of {@link IDLE_KINDS} (exported for tests). */
export function onlyIdle(resources: readonly string[]): boolean {
  return resources.every((r) => IDLE_KINDS.has(r));
}

/** Turns of the event loop to wait for handles that are closing (a child that exited, its pipes). */
const TURNS = 3;

/**
 * After the command returned: when it asked ({@link exitWhenIdle}), exits with `process.exitCode`
 * once the callbacks already queued have run (a background start queued with setImmediate) and
 * only idle resources are left, looking again on the next turns of the event loop (the handle of
 * a child that just exited closes one turn later); otherwise the process ends as usual.
 */
export function exitEarlyIfIdle(): void {
  if (!asked) return;
  const look = (turn: number): void => {
    const pending = process.getActiveResourcesInfo();
    if (onlyIdle(pending)) {
      trace('exit');
      process.exit();
      return;
    }
    if (turn < TURNS) setImmediate(() => look(turn + 1));
    else trace('exit when idle', `waits for ${pending.filter((r) => !IDLE_KINDS.has(r)).join(', ')}`);
  };
  setImmediate(() => look(1));
}
