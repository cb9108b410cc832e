import { MinoError } from '../common/errors.js';
import type { CapturedLogs } from '../runtime/container-runtime.js';
import { NotFoundError } from '../runtime/runtime-errors.js';
import { lastLinesOf, SessionOutputStore } from '../session/session-output.js';
import type { SessionContext } from '../context/session-context.js';

function containerRef(ctx: SessionContext, name: string): string {
  const record = ctx.store.require(name);
  return record.container_id ?? `mino-${name}`;
}

function noContainer(name: string): MinoError {
  return new MinoError(`Session '${name}' has no container any more, so it has no logs`, {
    hint: 'Attached sessions show their output in the terminal only; a detached session keeps its output until mino stop',
  });
}

function gone(name: string, err: unknown): MinoError {
  return err instanceof NotFoundError ? noContainer(name) : (err as MinoError);
}

/** The output saved when a finished detached session's container was removed, tailed. */
function saved(ctx: SessionContext, name: string, lines: number): CapturedLogs | undefined {
  const output = new SessionOutputStore(ctx.stateDir).read(name);
  return output && { stdout: lastLinesOf(output.stdout, lines), stderr: lastLinesOf(output.stderr, lines) };
}

/** The last `lines` lines (0 = all) of a session's output, stdout and stderr apart. */
export async function sessionLogs(ctx: SessionContext, name: string, lines: number): Promise<CapturedLogs> {
  const ref = containerRef(ctx, name);
  try {
    return await ctx.runtime.logs(ref, lines);
  } catch (err) {
    const output = saved(ctx, name, lines);
    if (output) return output;
    throw gone(name, err);
  }
}

/**
 * Streams a session's output until it ends or the user interrupts; for a finished session whose
 * output was saved, prints that (stdout to `out`, stderr to `err`) and returns.
 */
export async function followSessionLogs(
  ctx: SessionContext,
  name: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  const ref = containerRef(ctx, name);
  const exists = (await ctx.runtime.listContainers({})).some((c) => c.name === ref || c.id.startsWith(ref));
  if (!exists) {
    const output = saved(ctx, name, 0);
    if (!output) throw noContainer(name);
    out.write(output.stdout);
    err.write(output.stderr);
    return;
  }
  await ctx.runtime.logsFollow(ref);
}
