import { dataDirOf, type SessionContext } from '../context/session-context.js';
import { gitExcludePath } from '../protect/protect-private.js';
import { copyDiff } from '../workspace/copy-diff.js';
import { relinkOrigin } from '../workspace/make-copy.js';
import { sessionCopy } from './session-copy.js';

/**
 * Use case `mino diff NAME`: everything session NAME's working copy holds against the commit its
 * branch started from, committed and uncommitted (new files too), read without touching the
 * agent's index; works while the session runs and after it ended.
 */
export async function sessionDiff(
  ctx: SessionContext,
  name: string,
  options: { stat?: boolean } = {},
): Promise<string> {
  const { meta, paths, objectsDir } = sessionCopy(ctx, name);
  relinkOrigin(paths, objectsDir);
  return copyDiff(meta.copy, meta.base, { stat: options.stat ?? false, excludesFile: gitExcludePath(dataDirOf(ctx)) });
}
