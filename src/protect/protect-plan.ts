import { GIT_EXCLUDE_TARGET, gitExcludeEnv, type EntryKind, type ProtectRule } from './protect-rules.js';
import { compareText } from '../common/compare-text.js';

/**
 * How protected paths are enforced, as pure data for the RunPlan: mounts, and the stand-in files
 * ("stubs") mino creates on the host for protected paths that do not exist yet.
 *
 * - Each existing protected path is bind-mounted read-only onto itself, after the read-write
 *   mount that holds it: the agent reads it, cannot write, remove, rename or replace it (a
 *   mountpoint cannot be renamed or removed: EBUSY), and a symlink planted elsewhere reaches the
 *   same read-only mount.
 * - Linux does let a process rename the ANCESTOR of a mountpoint (`mv .git old; mkdir -p .git/hooks`
 *   would leave the protected copy under `old`), so every directory between the mount root and a
 *   protected path is bind-mounted read-write onto itself ("pinned"): renaming it fails too.
 * - A path that does not exist gets a stub (an empty directory, or a file every host tool accepts,
 *   such as `{}` for JSON settings) created on the host before the run and protected like the
 *   rest; mino removes it when no container of the project is left (protect-stubs.ts).
 * - A path with a private source (Claude Code's `.claude/settings.local.json`) gets that file
 *   mounted read-write instead: the agent keeps its own copy, the host's file never changes.
 */

/** What the host has at a path (lstat, never following a symbolic link). */
export type Found = 'file' | 'dir' | 'symlink' | 'other' | 'absent';

/** One protected path under a root, as found on the host. */
export interface ProtectCandidate {
  /** Path relative to the root's host directory (`/`-separated). */
  path: string;
  rule: Pick<ProtectRule, 'kind' | 'stub'>;
  found: Found;
  /**
   * A host file of mino's own mounted read-write over the path instead of the path itself: the
   * agent writes its private copy, the host's file never changes (`.claude/settings.local.json`).
   */
  privateSource?: string;
  /**
   * The path's stand-in is made even in a root without stand-ins: it is the project's own path
   * seen through a volume that holds the project (the project's plan creates the same stand-in).
   */
  mayStub?: boolean;
}

/** A read-write mount source (the project, a `--volume` directory) and its protected paths. */
export interface ProtectRoot {
  /** Canonical host directory: the source of one of the run's read-write bind mounts. */
  hostDir: string;
  /** Stubs may be created here (the project; not other people's volume directories). */
  stubs: boolean;
  candidates: ProtectCandidate[];
  /** What the host has at each proper ancestor directory of the candidates (relative path → found). */
  ancestors: Record<string, Found>;
}

/** The discovery's result (the caller's I/O, protect-discovery.ts in app/), input of the plan. */
export interface ProtectFacts {
  roots: ProtectRoot[];
  /** Host file with the git excludes of the stand-ins (protect-rules.ts gitExcludeText), mounted when a root may have stand-ins. */
  gitExclude?: string;
  /** Notes of the discovery (a bounded scan that stopped early, ...), shown as warnings. */
  notes?: string[];
}

/** A file or directory mino creates on the host for the session. */
export interface PlannedStub {
  hostPath: string;
  kind: EntryKind;
  /** File content (`''` for a directory). */
  content: string;
}

/** One line of `--dry-run`'s list. */
interface ProtectedEntry {
  hostPath: string;
  containerPath: string;
  /** `read-only`: exists; `stub`: created for the session; `absent`: not there and not created; `private`: a private copy. */
  state: 'read-only' | 'stub' | 'absent' | 'private';
}

/** A bind mount of the protection: `source` is `target`'s host path (or a private copy's). */
interface ProtectMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What the RunPlan gets from {@link planProtection}. */
export interface ProtectionPlan {
  /** Pins (read-write) and protections (read-only), parents first; then the git excludes file. */
  mounts: ProtectMount[];
  /** Environment for the session (git's excludes of the stand-ins), below everything else. */
  env: Record<string, string>;
  /** Stubs to create before the run, parents first. */
  stubs: PlannedStub[];
  entries: ProtectedEntry[];
  warnings: string[];
}

/** A mount of the run a root can be matched to. */
export interface RootMount {
  source: string;
  target: string;
  readOnly?: boolean;
  /** Named volumes are not host directories. */
  volume?: string;
}

const join = (a: string, b: string): string => (b === '' ? a : a === '/' ? `/${b}` : `${a}/${b}`);
const depth = (p: string): number => p.split('/').length;
const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

/**
 * The mounts and stubs protecting `facts` in a run whose mounts are `mounts` (project and user
 * volumes), under every read-write bind mount of its directory (a project also given as a
 * `--volume`). A root whose host directory is not the source of a read-write bind mount is skipped;
 * a protected path inside another protected directory is covered by it; a path below a symbolic
 * link, or a protected path that is one, is not protected (a warning says so); a path another
 * mount of the run already uses is left to that mount. Pure.
 */
export function planProtection(facts: ProtectFacts, mounts: readonly RootMount[]): ProtectionPlan {
  const plan: ProtectionPlan = { mounts: [], env: {}, stubs: [], entries: [], warnings: [...(facts.notes ?? [])] };
  // Every read-write bind mount of a root's directory (the project given again as a volume too).
  const pairs = facts.roots.flatMap((root) =>
    mounts
      .filter((m) => m.volume === undefined && m.readOnly !== true && m.source === root.hostDir)
      .map((mount) => ({ root, mount })),
  );
  for (const { root, mount } of pairs) {
    const chosen = new Map<string, { privateSource?: string }>();
    const creates = new Map<string, PlannedStub>();
    const sorted = [...root.candidates].sort((a, b) => depth(a.path) - depth(b.path) || compareText(a.path, b.path));
    for (const c of sorted) {
      if ([...chosen.keys()].some((p) => under(c.path, p))) continue;
      const containerPath = join(mount.target, c.path);
      const hostPath = join(root.hostDir, c.path);
      if (
        mounts.some(
          (m) =>
            m !== mount &&
            (under(m.target, containerPath) || (under(containerPath, m.target) && under(m.target, mount.target))),
        )
      )
        continue;
      const parts = c.path.split('/');
      const missing: string[] = [];
      let blocked: string | undefined;
      for (let i = 1; i < parts.length; i++) {
        const anc = parts.slice(0, i).join('/');
        const found = root.ancestors[anc] ?? 'absent';
        if (found === 'dir' && missing.length === 0) continue;
        if (found === 'absent') missing.push(anc);
        else {
          blocked = anc;
          break;
        }
      }
      if (blocked !== undefined) {
        if (c.found !== 'absent' || c.rule.stub !== undefined)
          plan.warnings.push(
            `${hostPath} is not protected: ${join(root.hostDir, blocked)} is not a directory (a symbolic link?)`,
          );
        continue;
      }
      if (c.found === 'symlink') {
        plan.warnings.push(`${hostPath} is not protected: it is a symbolic link (mino cannot mount over one)`);
        continue;
      }
      if (c.found === 'absent') {
        if (c.rule.stub === undefined || (!root.stubs && c.mayStub !== true)) {
          plan.entries.push({ hostPath, containerPath, state: 'absent' });
          continue;
        }
        for (const anc of missing)
          if (!creates.has(anc)) creates.set(anc, { hostPath: join(root.hostDir, anc), kind: 'dir', content: '' });
        creates.set(c.path, { hostPath, kind: c.rule.kind, content: c.rule.kind === 'dir' ? '' : c.rule.stub });
      }
      chosen.set(c.path, c.privateSource === undefined ? {} : { privateSource: c.privateSource });
      plan.entries.push({
        hostPath,
        containerPath,
        state: c.privateSource !== undefined ? 'private' : c.found === 'absent' ? 'stub' : 'read-only',
      });
    }
    const pins = new Set<string>();
    for (const path of chosen.keys()) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) pins.add(parts.slice(0, i).join('/'));
    }
    const all = [
      ...[...pins].map((p) => ({ p, source: join(root.hostDir, p), readOnly: false })),
      ...[...chosen].map(([p, o]) => ({
        p,
        source: o.privateSource ?? join(root.hostDir, p),
        readOnly: o.privateSource === undefined,
      })),
    ].sort((a, b) => depth(a.p) - depth(b.p) || compareText(a.p, b.p));
    for (const { p, source, readOnly } of all) plan.mounts.push({ source, target: join(mount.target, p), readOnly });
    const fresh = [...creates.entries()].filter(([, s]) => !plan.stubs.some((t) => t.hostPath === s.hostPath));
    plan.stubs.push(...fresh.sort(([a], [b]) => depth(a) - depth(b) || compareText(a, b)).map(([, s]) => s));
  }
  // Whether or not a stand-in exists yet (a warm container's plan must equal the pooled run's).
  if (
    facts.gitExclude !== undefined &&
    facts.roots.some((r) => r.stubs) &&
    !mounts.some((m) => m.target === GIT_EXCLUDE_TARGET)
  ) {
    plan.mounts.push({ source: facts.gitExclude, target: GIT_EXCLUDE_TARGET, readOnly: true });
    plan.env = gitExcludeEnv();
  }
  return plan;
}
