import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, modeLabel } from '../../helpers/sandbox.js';
import { sandboxCounters, writePoolConfig } from '../pool/pool-helpers.js';
import { git, gitImage, makeRepo } from './branch-helpers.js';

requirePrerequisites();

/**
 * Warm branch sessions (issue 23): `mino pool warm -b` keeps containers warm that mount empty
 * folders of their own; `mino run -b NAME` claims one and its working copy is moved into that
 * folder. Two sessions at once get two containers and two copies (neither sees the other's
 * files), the work comes home, the protected git files stay read-only, and what the session
 * sees (its project's mounts and their modes, its files, its git state) equals a cold branch
 * session's.
 */

/** What a session sees of its project: the mounts under it (read-only or not), its files and git directory, git's view. */
const PROBE = [
  'awk \'$5 ~ "^/proj(/|$)" { split($6, o, ","); print $5, o[1] }\' /proc/self/mountinfo | sort',
  'ls -A | sort',
  'ls -A .git | sort',
  'git status --porcelain',
  'id -u',
].join('; echo ---; ');

/** The agent's work: a marker, the tree it sees, a commit; then tries on the protected files. */
const WORK = (n: string): string =>
  [
    `echo ${n} > mine-${n}.txt`,
    'sleep 1',
    'ls mine-*',
    'git add -A && git -c user.name=a -c user.email=a@x commit -qm work || echo "FAIL commit"',
    'echo "echo pwned" > .git/hooks/pre-commit 2>/dev/null && echo "HOLE hook"',
    'git config core.fsmonitor "echo pwned" 2>/dev/null && echo "HOLE config"',
    'echo x >> .git/config 2>/dev/null && echo "HOLE config append"',
    'touch /.mino-origin/objects/x 2>/dev/null && echo "HOLE host objects writable"',
    'true',
  ].join('\n');

const sandboxes: Sandbox[] = [];
afterAll(async () => {
  for (const s of sandboxes) {
    await s.mino(['pool', 'drain']);
    s.cleanup();
  }
});

for (const as of MODES) {
  describe(`warm branch sessions [${modeLabel(as)}]`, () => {
    const s = new Sandbox(as);
    sandboxes.push(s);

    it('claims: a copy each, the work comes home, protected files stay protected, the same view as cold', async () => {
      writePoolConfig(s, { warm_ttl: 300 });
      const project = makeRepo(s, as, 'proj');
      const flags = ['-p', project, '--image', gitImage(as), '--network', 'none', '--no-home', '--no-cache'];
      const warm = await s.mino(['pool', 'warm', '-n', '2', '-b', ...flags, '--', 'true']);
      expect(warm.exitCode, warm.stderr).toBe(0);
      expect(warm.stdout).toMatch(/^Pool [0-9a-f]{12}: 2 warm \(2 started\)/);
      const dry = await s.mino(['run', '-b', 'pa', '--dry-run', ...flags, '--', 'true']);
      expect(dry.stdout).toMatch(/^# Pool: a warm container would serve this run/m);
      const hits = sandboxCounters(s).pool_hits ?? 0;

      // Two sessions at once, each on a warm container of its own.
      const [pa, pb] = await Promise.all(
        ['pa', 'pb'].map((n) => s.mino(['run', '-b', n, ...flags, '--', 'sh', '-c', `${PROBE}; echo ===; ${WORK(n)}`])),
      );
      for (const [n, r] of [
        ['pa', pa!],
        ['pb', pb!],
      ] as const) {
        expect(r.exitCode, r.stderr).toBe(0);
        const work = r.stdout.split('===\n')[1]!;
        expect(work.split('\n').filter((l) => /^(HOLE|FAIL)/.test(l))).toEqual([]);
        expect(work.split('\n').filter((l) => l.startsWith('mine-'))).toEqual([`mine-${n}.txt`]);
        expect(git(project, 'show', `mino/${n}:mine-${n}.txt`)).toBe(n);
      }
      expect(sandboxCounters(s).pool_hits).toBe(hits + 2);
      // The stand-ins went after the sessions (none came home as uncommitted work).
      expect(git(project, 'for-each-ref', 'refs/mino/wip/')).toBe('');
      // No warm folder holds a copy: the claimed ones became the copies.
      const branches = join(s.env.XDG_DATA_HOME as string, 'mino', 'branches');
      const repoDir = readdirSync(branches).find((n) => !n.startsWith('.'))!;
      const warmDir = join(branches, repoDir, '.warm');
      for (const w of existsSync(warmDir) ? readdirSync(warmDir) : [])
        expect(existsSync(join(warmDir, w, 'proj', 'a.txt')), w).toBe(false);

      // A cold branch session sees the same.
      const cold = await s.mino(['run', '-b', 'pc', '--fresh', ...flags, '--', 'sh', '-c', PROBE]);
      expect(cold.exitCode, cold.stderr).toBe(0);
      expect(pa!.stdout.split('===\n')[0]).toBe(cold.stdout);
      expect(cold.stdout).toMatch(/^\/proj\/\.git\/config ro$/m);
      expect(cold.stdout).toMatch(/^\/proj\/\.git\/hooks ro$/m);
      const copyOf = (n: string): string => join(branches, repoDir, n, 'proj');
      expect(readdirSync(copyOf('pa')).sort()).toEqual(['.git', 'a.txt', 'mine-pa.txt']);
      expect(readdirSync(copyOf('pc')).sort()).toEqual(['.git', 'a.txt']);
    }, 120_000);
  });
}
