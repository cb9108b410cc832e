import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { TEST_IMAGE } from '../../helpers/test-env.js';
import { MODES, Sandbox, hex, modeLabel, podmanAs } from '../../helpers/sandbox.js';

requirePrerequisites();

interface VolumeJson {
  name: string;
  volume: string;
  exists: boolean;
  size_limit_bytes: number;
  used_bytes: number | null;
  over_limit: boolean;
  mount_count: number;
  last_used: string | null;
}

for (const as of MODES) {
  describe(`mino volume and run --volume NAME:/path [${modeLabel(as)}]`, () => {
    let box: Sandbox;
    let project = '';
    const slug = `t${hex(8)}-data`;
    const run = (args: string[], command: string[]): ReturnType<Sandbox['mino']> =>
      box.mino(['run', '-p', project, '--image', TEST_IMAGE, '--network', 'none', ...args, '--', ...command]);

    beforeAll(() => {
      box = new Sandbox(as);
      project = box.project('proj');
      box.track(`mino-vol-${slug}`);
    });
    afterAll(() => box.cleanup());

    it('rejects bad names and sizes before creating anything', async () => {
      for (const [args, message] of [
        [['a b'], "Invalid volume name 'a b'"],
        [['-x'], ''],
        [['my.vol'], "'.' is not allowed"],
        [['ok1', '--size', '2XB'], "Invalid size '2XB': unknown unit 'XB'"],
        [['ok2', '--size=-1GB'], 'a size cannot be negative'],
        [['ok3', '--size', 'lots'], "Invalid size 'lots'"],
        [['ok4', '--size', '0'], 'a limit must be more than 0 bytes'],
      ] as const) {
        const r = await box.mino(['volume', 'create', ...args]);
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(message);
        expect(r.stderr).toMatch(/^Error: .*\nHint: /m);
      }
      expect(podmanAs(as, ['volume', 'ls', '-q', '--filter', 'name=mino-vol-ok']).stdout.trim()).toBe('');
      const bad = await run(['--volume', 'bad.slug:/d'], ['true']);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain("Invalid --volume 'bad.slug:/d'");
    });

    it('creates a labelled podman volume with a size limit', async () => {
      const r = await box.mino(['volume', 'create', slug, '--size', '1KB']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe(`Created volume ${slug} (limit 1.0KB, not enforced)\n`);
      const labels = JSON.parse(
        podmanAs(as, ['volume', 'inspect', '--format', '{{json .Labels}}', `mino-vol-${slug}`]).stdout,
      ) as Record<string, string>;
      expect(labels['io.mino.volume']).toBe('true');
      expect(labels['io.mino.volume.slug']).toBe(slug);
      expect(Date.parse(labels['io.mino.volume.created_at'] ?? '')).not.toBeNaN();
      const again = await box.mino(['volume', 'create', slug]);
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain(`Volume '${slug}' already exists`);
    });

    it('keeps data between runs, and :ro is read-only', async () => {
      const write = await run(
        ['--volume', `${slug}:/data`],
        ['sh', '-c', 'echo kept > /data/file && head -c 4096 /dev/zero > /data/pad'],
      );
      expect(write.exitCode, write.stderr).toBe(0);
      const read = await run(['--volume', `${slug}:/data:ro`], ['sh', '-c', 'cat /data/file; echo x > /data/other']);
      expect(read.stdout).toBe('kept\n');
      expect(read.stderr).toContain('Read-only file system');
      expect(read.exitCode).not.toBe(0);
      // Over its 1 KB limit now: warned about at run, not enforced.
      expect(read.stderr).toContain(`Warning: volume '${slug}' uses`);
      expect(read.stderr).toContain('over its 1.0KB limit (podman does not enforce it');
    });

    it('lists usage against the limit and counts mounts', async () => {
      const r = await box.mino(['volume', 'list', '-f', 'json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const v = (JSON.parse(r.stdout) as VolumeJson[]).find((x) => x.name === slug);
      expect(v).toMatchObject({
        volume: `mino-vol-${slug}`,
        exists: true,
        size_limit_bytes: 1024,
        over_limit: true,
        mount_count: 2,
      });
      expect(v?.used_bytes).toBeGreaterThan(4096);
      expect(v?.last_used).not.toBeNull();
      const plain = await box.mino(['volume', 'ls', '-f', 'plain']);
      expect(plain.stdout.split('\n')).toContain(slug);
      const table = await box.mino(['volume', 'list']);
      expect(table.stdout).toMatch(new RegExp(`^${slug}\\s+\\d+\\.\\dKB / 1\\.0KB\\s+2\\s`, 'm'));
      expect(table.stdout).toContain(`Over their size limit: ${slug}`);
    });

    it('rejects an unknown volume before any container starts, naming the existing ones', async () => {
      const name = `nov-${hex(6)}`;
      const r = await box.mino([
        'run',
        '-n',
        name,
        '-p',
        project,
        '--network',
        'none',
        '--image',
        TEST_IMAGE,
        '--volume',
        'no-such-volume:/d',
        '--',
        'true',
      ]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("Error: Volume 'no-such-volume' does not exist");
      expect(r.stderr).toContain(`Hint: Existing volumes:`);
      expect(r.stderr).toContain(slug);
      expect(r.stderr).toContain('mino volume create no-such-volume');
      expect(podmanAs(as, ['ps', '-aq', '--filter', `name=mino-${name}`]).stdout.trim()).toBe('');
      expect(podmanAs(as, ['volume', 'exists', 'mino-vol-no-such-volume']).status).toBe(1);
      const sessions = await box.mino(['list', '-a', '-f', 'plain']);
      expect(sessions.stdout.split('\n')).not.toContain(name);
    });

    it('rm needs -f while a detached session mounts the volume', async () => {
      const session = `hold-${hex(6)}`;
      const start = await box.mino([
        'run',
        '-d',
        '-n',
        session,
        '-p',
        project,
        '--image',
        TEST_IMAGE,
        '--network',
        'none',
        '--volume',
        `${slug}:/data`,
        '--',
        'sleep',
        '300',
      ]);
      expect(start.exitCode, start.stderr).toBe(0);

      const info = await box.mino(['volume', 'info', slug]);
      expect(info.exitCode, info.stderr).toBe(0);
      expect(info.stdout).toMatch(new RegExp(`^Used by: +${session}$`, 'm'));

      const refused = await box.mino(['volume', 'rm', slug]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`Error: Volume '${slug}' is mounted by running session ${session}`);
      expect(refused.stderr).toContain(`mino volume rm ${slug} -f`);
      expect(podmanAs(as, ['volume', 'exists', `mino-vol-${slug}`]).status).toBe(0);

      const forced = await box.mino(['volume', 'rm', slug, '-f']);
      expect(forced.exitCode, forced.stderr).toBe(0);
      expect(forced.stdout).toBe(`Removed volume ${slug}\n`);
      expect(forced.stderr).toContain(`Ended session ${session}`);
      expect(podmanAs(as, ['volume', 'exists', `mino-vol-${slug}`]).status).toBe(1);
      expect(podmanAs(as, ['ps', '-aq', '--filter', `name=mino-${session}`]).stdout.trim()).toBe('');
      const list = await box.mino(['volume', 'list', '-f', 'plain']);
      expect(list.stdout.split('\n')).not.toContain(slug);
      const gone = await box.mino(['volume', 'rm', slug]);
      expect(gone.exitCode).toBe(2);
      expect(gone.stderr).toContain(`Volume '${slug}' does not exist`);
    });
  });
}
