import { MinoError } from '../common/errors.js';
import type { SessionRecord } from '../session/session-record.js';
import { SessionNotFoundError } from '../session/session-store.js';
import { reconcileSessions } from './reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * The reconciled record of a session that must be running: the named one, or the newest
 * running session when no name is given.
 */
export async function runningSession(ctx: SessionContext, name: string | undefined): Promise<SessionRecord> {
  if (name !== undefined) ctx.store.require(name);
  const { sessions } = await reconcileSessions(ctx);
  if (name === undefined) {
    const newest = sessions.find((s) => s.status === 'running');
    if (!newest) throw new MinoError('No running sessions', { hint: 'Start one with: mino run' });
    return newest;
  }
  const record = sessions.find((s) => s.name === name);
  if (!record) throw new SessionNotFoundError(name);
  if (record.status !== 'running') {
    throw new MinoError(`Session '${name}' is not running (status: ${record.status})`, {
      hint: "Run 'mino list -a' to see sessions",
    });
  }
  return record;
}
