import { MinoError } from '../common/errors.js';
import type { CapturedLogs } from '../runtime/container-runtime.js';
import { isNotFound } from '../runtime/podman/podman-error.js';
import { PodmanError } from '../runtime/podman/podman-error.js';
import type { SessionContext } from './session-context.js';

function containerRef(ctx: SessionContext, name: string): string {
  const record = ctx.store.require(name);
  return record.container_id ?? `mino-${name}`;
}

function gone(name: string, err: unknown): MinoError {
  if (err instanceof PodmanError && isNotFound(err.stderr)) {
    return new MinoError(`Session '${name}' has no container any more, so it has no logs`, {
      hint: 'Attached sessions remove their container when they end; detached ones keep it until mino stop',
    });
  }
  return err as MinoError;
}

/** The last `lines` lines (0 = all) of a session's output, stdout and stderr apart. */
export async function sessionLogs(ctx: SessionContext, name: string, lines: number): Promise<CapturedLogs> {
  const ref = containerRef(ctx, name);
  try {
    return await ctx.runtime.logs(ref, lines);
  } catch (err) {
    throw gone(name, err);
  }
}

/** Streams a session's output until it ends or the user interrupts. */
export async function followSessionLogs(ctx: SessionContext, name: string): Promise<void> {
  const ref = containerRef(ctx, name);
  const exists = (await ctx.runtime.listContainers({})).some((c) => c.name === ref || c.id.startsWith(ref));
  if (!exists) throw gone(name, new PodmanError(['logs'], 1, 'no such container'));
  await ctx.runtime.logsFollow(ref);
}
