import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { IS_ROOT, ROOTLESS_USER, TEST_IMAGE } from '../../helpers/test-env.js';
import { MODES, modeLabel } from '../../helpers/sandbox.js';

requirePrerequisites();

/**
 * `--volume` gets the guard of -p: no /, home directory or system directory of the host, no
 * container path podman or the kernel own, a host path that exists. Each refusal is one error,
 * exit 2, and nothing is created (no session file, no container).
 */

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

for (const as of MODES) {
  const label = modeLabel(as);
  describe(`--volume guard [${label}]`, () => {
    const xdg = isolatedXdg(as);
    roots.push(xdg.root);
    const home = as === 'rootless' && IS_ROOT ? `/home/${ROOTLESS_USER}` : (process.env.HOME ?? '/root');
    const env = {
      XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
      XDG_STATE_HOME: xdg.XDG_STATE_HOME,
      XDG_DATA_HOME: xdg.XDG_DATA_HOME,
      MINO_IMAGE: TEST_IMAGE,
      HOME: home,
      ...xdg.podmanEnv,
    };
    const project = join(xdg.root, 'proj');
    mkdirSync(project, { recursive: true });
    const link = join(xdg.root, 'etc-link');
    symlinkSync('/etc', link);

    const sessions = (): string[] => {
      const dir = join(xdg.XDG_STATE_HOME, 'mino', 'sessions');
      return existsSync(dir) ? readdirSync(dir) : [];
    };
    const refused = async (volume: string, message: RegExp, extra: string[] = []): Promise<void> => {
      const before = sessions();
      const r = await runMino(['run', '-p', project, '--network', 'none', ...extra, '--volume', volume, '--', 'true'], {
        as,
        env,
      });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.match(/^Error: /gm)).toHaveLength(1);
      expect(r.stderr).toMatch(/^Hint: /m);
      expect(sessions()).toEqual(before);
    };

    it('refuses / and the home directory unless --allow-home', async () => {
      await refused('/:/host', /Invalid --volume '\/:\/host': host path \/: it is the root of the host file system/);
      await refused(`${home}:/h`, /host path .*: it is your home directory/);
      const ok = await runMino(
        ['run', '-p', project, '--dry-run', '--allow-home', '--volume', `${home}:/h:ro`, '--', 'true'],
        { as, env },
      );
      expect(ok.exitCode).toBe(0);
      expect(ok.stdout).toContain(`-v ${home}:/h:ro`);
    });

    it('refuses system directories, also through a symbolic link, unless --allow-system-paths', async () => {
      await refused('/etc:/e', /host path \/etc: it is the system directory \/etc/);
      await refused(`${link}:/e`, /host path \/etc: it is the system directory \/etc/);
      await refused('/run:/r', /system directory \/run/);
      const ok = await runMino(
        [
          'run',
          '-p',
          project,
          '--network',
          'none',
          '--allow-system-paths',
          '--volume',
          '/etc:/e:ro',
          '--',
          'test',
          '-f',
          '/e/hostname',
        ],
        { as, env },
      );
      expect(ok.exitCode).toBe(0);
    });

    it('refuses a container path that normalises onto /etc or a kernel file system', async () => {
      await refused(`${xdg.root}:/a/../etc`, /container path \/etc: podman writes hostname, hosts and resolv.conf/);
      await refused(
        `${xdg.root}:/proc/x`,
        /container path \/proc\/x: \/proc in the container belongs to podman and the kernel/,
      );
    });

    it("refuses mino's own state and configuration directories and what holds them", async () => {
      await refused(`${xdg.XDG_STATE_HOME}:/st`, /host path .*: it contains mino's own directory .*\/mino/);
      await refused(`${xdg.XDG_CONFIG_HOME}:/cfg`, /host path .*: it contains mino's own directory .*\/mino/);
    });

    it('refuses a host path that does not exist with one error and no session', async () => {
      await refused(`${xdg.root}/missing:/m`, /host path .*\/missing does not exist/);
    });
  });
}
