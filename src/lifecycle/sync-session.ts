import { UsageError } from '../common/errors.js';
import type { SessionContext } from '../context/session-context.js';
import type { BackResult } from '../sync/bring-back.js';
import { describeReturn, recordedCopy, returnCopy } from '../sync/project-sync.js';
import { projectVolumeName } from '../sync/sync-state.js';
import { isActive, type SessionRecord } from '../session/session-record.js';

/**
 * `mino sync NAME` (and the end of `mino stop` for a session on a remote engine): the agent's
 * changes in the project copy on the session's engine brought back here, conflicts kept and
 * reported (src/sync/bring-back.ts). `ctx` must be on the session's engine.
 */

/** What a sync did, with lines for people. */
export interface SessionSync {
  result: BackResult | undefined;
  lines: string[];
}

/** Brings back the changes of `record`'s project copy (the record's engine must be `ctx.engine`). */
export async function syncSessionRecord(ctx: SessionContext, record: SessionRecord): Promise<SessionSync> {
  const engine = record.engine;
  if (engine === undefined || engine !== ctx.engine) {
    throw new UsageError(
      `Session '${record.name}' runs on this machine: its project is the directory itself, nothing to sync`,
      'mino sync is for sessions on remote engines (mino run --engine NAME)',
    );
  }
  const copy = recordedCopy(
    {
      runtime: ctx.runtime,
      engine,
      volume: projectVolumeName(ctx.stateKey, record.project_dir),
      labels: { 'io.mino.state': ctx.stateKey },
    },
    record.project_dir,
    ctx.stateDir,
  );
  if (!copy)
    return { result: undefined, lines: [`Nothing to sync: the project was never shipped to engine ${engine}`] };
  const result = await returnCopy(copy, isActive(record));
  if (!result) return { result, lines: [] };
  const lines = describeReturn(result, engine);
  if (lines.length === 0) lines.push(`No changes on engine ${engine}`);
  return { result, lines };
}

/** `mino sync NAME`. */
export function syncSession(ctx: SessionContext, name: string): Promise<SessionSync> {
  return syncSessionRecord(ctx, ctx.store.require(name));
}
