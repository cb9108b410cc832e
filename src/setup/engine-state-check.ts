import { errorMessage } from '../common/errors.js';
import type { Host } from '../host/host.js';
import { hostEnv, hostPathExists, hostUid } from './host-files.js';
import type { EngineClient } from '../runtime/container-runtime.js';
import { StaleEngineStateError } from '../runtime/runtime-errors.js';
import type { CheckLog } from './check-result.js';
import type { FixPolicy } from './host-checks.js';

/**
 * A rootless engine whose state outlived its processes (a machine restarted or restored from a
 * snapshot without clearing `$XDG_RUNTIME_DIR`) refuses every command with "invalid internal
 * status, try resetting the pause process with podman system migrate". Detected only where the
 * engine has run before (its `libpod/tmp/alive` marker): on a fresh user the first podman call
 * would create the image store, which the storage check must configure first. The repair is the
 * one podman names; images, volumes and containers stay.
 */
export async function checkEngineState(
  log: CheckLog,
  runtime: EngineClient,
  host: Host,
  policy: FixPolicy,
): Promise<void> {
  if ((await hostUid(host)) === 0) return;
  const runDir = await hostEnv(host, 'XDG_RUNTIME_DIR');
  if (!runDir || !(await hostPathExists(host, `${runDir}/libpod/tmp/alive`))) return;
  const failure = await runtime.info({ refresh: true }).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(failure instanceof StaleEngineStateError)) return;
  const id = 'engine.state';
  const title = 'Rootless engine state';
  if (
    !(await policy.mayFix(
      'Podman kept state from before a restart whose processes are gone. Reset it (podman system migrate; images, volumes and containers stay)?',
    ))
  ) {
    log.add({
      id,
      title,
      status: 'fail',
      detail: 'state from before a restart: podman refuses every command',
      hint: `${policy.fixHint} (runs podman system migrate)`,
    });
    return;
  }
  const repair = await migrate(runtime);
  if (repair === undefined)
    log.add({ id, title, status: 'fixed', detail: 'podman system migrate reset the state a restart left behind' });
  else log.add({ id, title, status: 'fail', detail: errorMessage(repair), hint: 'Run: podman system migrate' });
}

/**
 * `podman system migrate`, judged by its effect: it exits non-zero when a container it stops had
 * already died with the engine ("container not running") although the state is reset. The engine
 * answering again is success; a second migrate gets its chance when the first left it stale.
 */
async function migrate(runtime: EngineClient): Promise<unknown> {
  let failure: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    failure = await runtime.systemMigrate().then(
      () => undefined,
      (err: unknown) => err,
    );
    const after = await runtime.info({ refresh: true }).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (after === undefined) return undefined;
    failure ??= after;
    if (!(after instanceof StaleEngineStateError)) return after;
  }
  return failure;
}
