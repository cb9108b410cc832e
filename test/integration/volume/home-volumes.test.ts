import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, buildMinoLikeImage, modeLabel, podmanAs } from '../../helpers/sandbox.js';

requirePrerequisites();

function homeVolumeOf(project: string): string {
  return `mino-home-${createHash('sha256').update(project).digest('hex').slice(0, 12)}`;
}

for (const as of MODES) {
  describe(`per-project home volume [${modeLabel(as)}]`, () => {
    let box: Sandbox;
    let image = '';
    let project = '';
    let other = '';
    const run = (dir: string, args: string[], command: string): ReturnType<Sandbox['mino']> =>
      box.mino(['run', '-p', dir, '--image', image, '--network', 'none', ...args, '--', 'sh', '-c', command]);

    beforeAll(() => {
      box = new Sandbox(as);
      image = buildMinoLikeImage(as);
      project = box.project('proj');
      other = box.project('other');
      box.track(homeVolumeOf(project));
      box.track(homeVolumeOf(other));
    }, 300_000);
    // The image carries this run's io.mino.test label: the global teardown removes it (removing
    // images while other files list theirs trips podman 4.3).
    afterAll(() => box.cleanup());

    it('persists a file in /home/developer between runs of the same project, owned by developer', async () => {
      const first = await run(project, [], 'id -u; cat /home/developer/.from-image; echo hello > /home/developer/note');
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stdout).toBe('1000\nimage-home\n');
      const second = await run(
        project,
        [],
        'cat /home/developer/note; stat -c %u /home/developer /home/developer/note',
      );
      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stdout).toBe('hello\n1000\n1000\n');

      const labels = JSON.parse(
        podmanAs(as, ['volume', 'inspect', '--format', '{{json .Labels}}', homeVolumeOf(project)]).stdout,
      ) as Record<string, string>;
      expect(labels['io.mino.home']).toBe('true');
      expect(labels['io.mino.home.project']).toBe(project);
      expect(Date.parse(labels['io.mino.home.created_at'] ?? '')).not.toBeNaN();
    });

    it('records the home volume in the session', async () => {
      const sessions = JSON.parse((await box.mino(['list', '-a', '-f', 'json'])).stdout) as Array<{
        home_volume: string | null;
      }>;
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.every((s) => s.home_volume === homeVolumeOf(project))).toBe(true);
    });

    it('is per project, and --no-home leaves it out', async () => {
      const elsewhere = await run(other, [], 'cat /home/developer/note 2>/dev/null || echo none');
      expect(elsewhere.stdout).toBe('none\n');
      const noHome = await run(project, ['--no-home'], 'cat /home/developer/note 2>/dev/null || echo none');
      expect(noHome.exitCode, noHome.stderr).toBe(0);
      expect(noHome.stdout).toBe('none\n');
    });

    it('takes the place of the home tmpfs under --read-only', async () => {
      const r = await run(
        project,
        ['--read-only'],
        'echo more >> /home/developer/note && cat /home/developer/note; touch /etc/x 2>/dev/null || echo ro',
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe('hello\nmore\nro\n');
    });

    it('gives way to a mount of your own at /home/developer', async () => {
      const dir = box.project('myhome');
      const r = await run(
        project,
        ['--volume', `${dir}:/home/developer`],
        'cat /home/developer/note 2>/dev/null || echo none',
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe('none\n');
    });
  });
}
