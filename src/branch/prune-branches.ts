import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { withFileLockAsync } from '../common/file-lock.js';
import { dataDirOf, type SessionContext } from '../context/session-context.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import { gitExcludePath } from '../protect/protect-private.js';
import { isActive } from '../session/session-record.js';
import { homeVolumeName } from '../volume/home-volume.js';
import { collectWork } from '../workspace/collect-work.js';
import { readCopyMeta, type CopyMeta } from '../workspace/copy-meta.js';
import { uncommitted } from '../workspace/copy-state.js';
import { gitTry } from '../host/git.js';

/**
 * Use case `mino branch prune`: removes the working copies (and their home volumes) of ended
 * sessions whose work is all merged into the host repository's HEAD, and never anything else: a
 * copy a session runs on, one with uncommitted work, one with any branch or stash not in HEAD, one
 * whose host repository is gone. Each copy's work comes home first, so even a kept copy's branch
 * is in the host repository afterwards.
 */

/** What prune did with one working copy. */
export interface PruneOutcome {
  /** `mino/NAME`. */
  branch: string;
  repo: string;
  removed: boolean;
  /** Why it was kept (removed: false). */
  reason?: string;
}

/** Every working copy's record under the data directory. */
function allCopies(dataDir: string): { meta: CopyMeta; base: string }[] {
  const root = join(dataDir, 'branches');
  const out: { meta: CopyMeta; base: string }[] = [];
  const dirs = (d: string): string[] => {
    try {
      return readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => join(d, e.name));
    } catch {
      return [];
    }
  };
  for (const repoDir of dirs(root))
    for (const base of dirs(repoDir)) {
      const meta = readCopyMeta(join(base, 'copy.json'));
      if (meta) out.push({ meta, base });
    }
  return out;
}

/** Why the copy must stay (its work is not all in the host's HEAD), or undefined. */
async function keepReason(ctx: SessionContext, meta: CopyMeta): Promise<string | undefined> {
  if (!existsSync(meta.repo)) return `its repository ${meta.repo} is gone`;
  const head = await gitTry(meta.repo, ['rev-parse', '-q', '--verify', 'HEAD^{commit}']);
  if (head.exitCode !== 0) return 'the host repository has no HEAD commit';
  if ((await uncommitted(meta.copy, gitExcludePath(dataDirOf(ctx)))).dirty) return 'it has uncommitted work';
  const refs = await gitTry(meta.copy, [
    'for-each-ref',
    '--format=%(objectname) %(refname)',
    'refs/heads',
    'refs/stash',
  ]);
  for (const line of refs.stdout.split('\n').filter(Boolean)) {
    const [sha = '', ref = ''] = line.split(' ');
    const merged = await gitTry(meta.copy, ['merge-base', '--is-ancestor', sha, head.stdout.trim()]);
    if (merged.exitCode !== 0) return `${ref.replace('refs/heads/', '')} is not merged into HEAD of ${meta.repo}`;
  }
  return undefined;
}

/** Brings the copy's work home, then removes it (and its home volume) when {@link keepReason} finds nothing to keep. */
async function judgeAndRemove(
  ctx: SessionContext,
  meta: CopyMeta,
  base: string,
  outcome: PruneOutcome,
  dryRun: boolean,
): Promise<PruneOutcome> {
  try {
    if (existsSync(meta.repo) && !dryRun) await collectWork(meta.copy, gitExcludePath(dataDirOf(ctx)));
    const reason = await keepReason(ctx, meta);
    if (reason !== undefined) return { ...outcome, reason };
  } catch (err) {
    return { ...outcome, reason: errorMessage(err) };
  }
  if (!dryRun) {
    await ctx.runtime.volumeRemove(homeVolumeName(meta.copy), { force: false }).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
  return { ...outcome, removed: true };
}

/** Prunes (or with `dryRun` only judges) every working copy; see the module comment. */
export async function pruneBranches(ctx: SessionContext, options: { dryRun?: boolean } = {}): Promise<PruneOutcome[]> {
  const { sessions } = await reconcileSessions(ctx);
  const outcomes: PruneOutcome[] = [];
  for (const { meta, base } of allCopies(dataDirOf(ctx))) {
    const outcome: PruneOutcome = { branch: `mino/${meta.name}`, repo: meta.repo, removed: false };
    const running = sessions.find((s) => isActive(s) && s.project_dir === meta.copy);
    if (running) {
      outcomes.push({ ...outcome, reason: `session ${running.name} is running on it` });
      continue;
    }
    // Under the copy's lock: a run starting on it meanwhile waits, then makes a new one.
    outcomes.push(
      await withFileLockAsync(`${base}.lock`, () => judgeAndRemove(ctx, meta, base, outcome, options.dryRun ?? false), {
        what: `the working copy of ${outcome.branch}`,
      }),
    );
  }
  return outcomes;
}
