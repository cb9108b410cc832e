import { basename, dirname, join } from 'node:path';
import { UsageError } from '../common/errors.js';
import type { SessionContext } from '../context/session-context.js';
import type { SessionRecord } from '../session/session-record.js';
import { copyPathsIn, type CopyPaths } from '../workspace/copy-layout.js';
import { readCopyMeta, type CopyMeta } from '../workspace/copy-meta.js';

/** The working copy of a branch session, found from its record (for `mino diff` and `mino fork`). */

/** A session's working copy. */
export interface SessionCopy {
  record: SessionRecord;
  meta: CopyMeta;
  paths: CopyPaths;
  /** The host repository's object store. */
  objectsDir: string;
}

/** The working copy of session `name`; an unknown session, one without a branch or without its copy is a UsageError. */
export function sessionCopy(ctx: SessionContext, name: string): SessionCopy {
  const record = ctx.store.require(name);
  if (record.branch === undefined) {
    throw new UsageError(
      `Session '${name}' has no branch: it ran on the project itself`,
      'Only sessions started with mino run --branch (or mino fork) have one; see mino list -a (BRANCH)',
    );
  }
  const paths = copyPathsIn(dirname(record.project_dir), basename(record.project_dir));
  const meta = readCopyMeta(paths.meta);
  if (!meta || meta.copy !== record.project_dir) {
    throw new UsageError(
      `The working copy of session '${name}' (branch mino/${record.branch}) is gone`,
      `Its branch is in the host repository: git log mino/${record.branch}`,
    );
  }
  return { record, meta, paths, objectsDir: join(meta.commonDir, 'objects') };
}
