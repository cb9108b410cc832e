import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOTFUL_DEVICE_DIR, ROOTFUL_ID_BASE } from '../../../src/config/defaults.js';
import { deviceDirProblems, ensureDeviceDir } from '../../../src/host/device-dir.js';
import { requirePrerequisites } from '../../helpers/engines.js';
import {
  MODES,
  Sandbox,
  buildContext,
  buildMinoLikeImage,
  buildTestImage,
  hex,
  modeLabel,
  podmanAs,
} from '../../helpers/sandbox.js';
import { onTerminal } from '../../helpers/terminal.js';
import { IN_CI, IS_ROOT, ROOTLESS_USER, TEST_IMAGE, uidOf } from '../../helpers/test-env.js';

requirePrerequisites();
if (!IS_ROOT && IN_CI) throw new Error('rootful root-image tests need root under CI');

/**
 * Issue 18, root images under rootful podman: an image that runs as root (TEST_IMAGE, busybox
 * imported without a USER) could not use a root-owned project (0700: exit 126, chdir permission
 * denied; 0755: read-only). The image's user, whoever it is, acts as the project's owner; when
 * that owner is root, the session gets a read-only /dev of mino's own, so the container's host-root
 * user owns nothing of the host but what is mounted (runc would otherwise bind the host's own
 * /dev/null, /dev/zero … into the container).
 */

/**
 * Host device nodes a session must not be able to change: mode, owner, and the modification time
 * (but of /dev/tty, which the kernel updates when a terminal is written through it).
 */
const HOST_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
function hostDeviceState(): string[] {
  return HOST_DEVICES.map((d) => {
    const st = statSync(d);
    return `${d} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${d === '/dev/tty' ? '' : st.mtimeMs}`;
  });
}

describe.runIf(IS_ROOT)('rootful: root images and root-owned projects', () => {
  const sandbox = new Sandbox('self');
  let devImage = '';
  const userImages: Record<string, string> = {};
  beforeAll(() => {
    devImage = buildMinoLikeImage('self');
    for (const user of ['1000', '1234', '1234:100']) {
      userImages[user] = buildTestImage('self', buildContext(), `localhost/mino-test-riuser-${hex(8)}:1`, [
        `FROM ${TEST_IMAGE}`,
        `USER ${user}`,
      ]);
    }
  });
  afterAll(() => sandbox.cleanup());

  /** A project of `uid` with `mode` (sandbox projects are root's). */
  function project(name: string, mode: number, uid = 0): string {
    const dir = sandbox.project(name);
    chownSync(dir, uid, uid);
    chmodSync(dir, mode);
    return dir;
  }

  const run = (dir: string, args: string[], image = TEST_IMAGE) =>
    sandbox.mino(['run', '-p', dir, '--network', 'none', '--no-home', '--image', image, ...args]);

  it('the test image runs as root', () => {
    expect(podmanAs('self', ['image', 'inspect', '--format', '{{.Config.User}}', TEST_IMAGE]).stdout.trim()).toBe('');
  });

  it("a root image in root's 0700 project exits with the command's code; what it creates is root's", async () => {
    const dir = project('root0700', 0o700);
    const r = await run(dir, ['--', 'sh', '-c', 'id -u; touch made && mkdir sub && echo x > sub/f; exit 7']);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ exitCode: 7, stdout: '0\n' });
    for (const p of ['made', 'sub', 'sub/f']) expect(statSync(join(dir, p))).toMatchObject({ uid: 0, gid: 0 });
  });

  it("a root image writes root's 0755 project without a warning", async () => {
    const dir = project('root0755', 0o755);
    writeFileSync(join(dir, 'existing'), 'old\n', { mode: 0o644 });
    const r = await run(dir, ['--', 'sh', '-c', 'echo new >> existing']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(spawnSync('cat', [join(dir, 'existing')], { encoding: 'utf8' }).stdout).toBe('old\nnew\n');
  });

  it("a root image in a normal user's 0700 project writes as that user", async () => {
    const dir = project('user0700', 0o700, 1500);
    const r = await run(dir, ['--', 'sh', '-c', 'touch made && mkdir sub']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(statSync(join(dir, 'made'))).toMatchObject({ uid: 1500, gid: 1500 });
    expect(statSync(join(dir, 'sub'))).toMatchObject({ uid: 1500, gid: 1500 });
  });

  it.each([
    ['1000', 1000, 1000],
    ['1234', 1234, 1234],
    ['1234:100', 1234, 100],
  ])("an image with USER %s acts as the owner of root's and of a normal user's project", async (user, uid) => {
    const rootDir = project(`u${user.replace(':', '-')}root`, 0o700);
    const r = await run(rootDir, ['--', 'sh', '-c', 'id -u; touch made'], userImages[user]);
    expect(r).toMatchObject({ exitCode: 0, stdout: `${uid}\n`, stderr: '' });
    expect(statSync(join(rootDir, 'made'))).toMatchObject({ uid: 0, gid: 0 });
    const userDir = project(`u${user.replace(':', '-')}user`, 0o700, 1500);
    const u = await run(userDir, ['--', 'touch', 'made'], userImages[user]);
    expect(u).toMatchObject({ exitCode: 0, stderr: '' });
    expect(statSync(join(userDir, 'made'))).toMatchObject({ uid: 1500, gid: 1500 });
  });

  it('an image rebuilt under its tag with another USER: the next run acts as the new user, and a run of an unchanged image asks podman nothing before podman run', async () => {
    const tag = `localhost/mino-test-rirebuild-${hex(8)}:1`;
    const dir = project('rebuilt', 0o700);
    buildTestImage('self', buildContext(), tag, [`FROM ${TEST_IMAGE}`, 'USER 1234']);
    expect(await run(dir, ['--', 'sh', '-c', 'id -u; touch first'], tag)).toMatchObject({
      exitCode: 0,
      stdout: '1234\n',
    });
    // What mino remembered of the image (its user) belongs to the old image ID.
    buildTestImage('self', buildContext(), tag, [`FROM ${TEST_IMAGE}`, 'USER 1000', 'LABEL rebuilt=1']);
    const again = await run(dir, ['--', 'sh', '-c', 'id -u; touch second'], tag);
    expect(again).toMatchObject({ exitCode: 0, stdout: '1000\n', stderr: '' });
    expect(statSync(join(dir, 'second'))).toMatchObject({ uid: 0, gid: 0 });
    // The same image once more: its user comes from the engine's image index, not an inspect.
    const traced = await run(dir, ['--trace', '--', 'sh', '-c', 'id -u; touch third'], tag);
    expect(traced).toMatchObject({ exitCode: 0, stdout: '1000\n' });
    expect(traced.stderr).toMatch(/exec attached {2}podman run/);
    expect(traced.stderr).not.toMatch(/podman image inspect/);
    expect(statSync(join(dir, 'third'))).toMatchObject({ uid: 0, gid: 0 });
  });

  it('a root-owned 0700 --volume is read and written by a root image, as root', async () => {
    const dir = project('withvol', 0o700);
    const vol = join(sandbox.root, 'private-vol');
    mkdirSync(vol, { mode: 0o700 });
    writeFileSync(join(vol, 'note'), 'only-root', { mode: 0o600 });
    const r = await run(dir, ['--volume', `${vol}:/mnt`, '--', 'sh', '-c', 'cat /mnt/note && touch /mnt/made']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'only-root', stderr: '' });
    expect(statSync(join(vol, 'made'))).toMatchObject({ uid: 0, gid: 0 });
  });

  it.each([
    ['root image', ''],
    ['mino-like image (uid 1000)', 'dev'],
  ])("with a %s in root's project, nothing of the host outside the mounts can be changed", async (_label, which) => {
    const dir = project(`nothing-${which || 'root'}`, 0o700);
    const before = hostDeviceState();
    // Every change is tried (harmless ones: the mode they already have, an old time); each line
    // says whether it worked. Before the fix, the mino-like image's user (host root) changed them.
    const probe = [
      'for f in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/console /proc/keys /proc/timer_list; do',
      '  [ -e "$f" ] || continue',
      '  chmod 0666 "$f" 2>/dev/null && echo "chmod $f"',
      '  touch -c -d 2001-01-01 "$f" 2>/dev/null && echo "touch $f"',
      'done',
      'touch /dev/new 2>/dev/null && echo "create /dev/new"',
      'echo 1 2>/dev/null > /proc/sys/kernel/printk_ratelimit && echo "write /proc/sys"',
      'echo x 2>/dev/null > /sys/kernel/uevent_helper && echo "write /sys"',
      'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
      'echo hi > /dev/null && head -c 3 /dev/zero | wc -c',
    ].join('\n');
    const r = await run(dir, ['--', 'sh', '-c', probe], which === 'dev' ? devImage : TEST_IMAGE);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.replace(/[ \t]+/g, ' ')).toBe('CapEff: 0000000000000000\nNoNewPrivs: 1\n3\n');
    expect(hostDeviceState()).toEqual(before);
    // The nodes the session saw are mino's own, unchanged too.
    expect(statSync(join(ROOTFUL_DEVICE_DIR, 'null')).mode & 0o7777).toBe(0o666);
  });

  it("the image's user is host root, every other container uid an unprivileged one", async () => {
    const dir = project('uids', 0o700);
    const started = await sandbox.mino([
      'run',
      '-d',
      '-n',
      'ri-uids',
      '-p',
      dir,
      '--network',
      'none',
      '--no-home',
      '--image',
      userImages['1234']!,
      '--',
      'sleep',
      '300',
    ]);
    expect(started.exitCode).toBe(0);
    try {
      const inspect = podmanAs('self', [
        'inspect',
        '--format',
        '{{json .HostConfig.IDMappings}}',
        'mino-ri-uids',
      ]).stdout;
      expect(inspect).toContain(`0:${ROOTFUL_ID_BASE}:1234`);
      expect(inspect).toContain('1234:0:1');
      // A setuid helper in the image (no-new-privileges aside) would still be unprivileged as root.
      const asRoot = podmanAs('self', ['exec', '--user', '0', 'mino-ri-uids', 'cat', '/proc/self/uid_map']);
      expect(asRoot.stdout).toMatch(new RegExp(`^\\s+0\\s+${ROOTFUL_ID_BASE}\\s+1234$`, 'm'));
      // mino exec on a terminal gets one from the session's own devpts.
      const t = onTerminal(sandbox, ['exec', 'ri-uids', 'sh', '-c', 'tty; exit 6']);
      expect(await t.exited).toBe(6);
      expect(t.output()).toMatch(/\/dev\/pts\/\d+/);
    } finally {
      await sandbox.mino(['stop', '-f', 'ri-uids']);
    }
  });

  it("a root image on a terminal in root's project: the session gets its terminal, and the exit code", async () => {
    const dir = project('tty', 0o700);
    const t = onTerminal(sandbox, [
      'run',
      '-p',
      dir,
      '--network',
      'none',
      '--no-home',
      '--image',
      TEST_IMAGE,
      '--',
      'sh',
      '-c',
      'tty; test -t 0 && echo on-a-tty > made; exit 5',
    ]);
    expect(await t.exited).toBe(5);
    expect(t.output()).toMatch(/\/dev\/pts\/\d+/);
    expect(statSync(join(dir, 'made')).uid).toBe(0);
  });

  it("--dry-run shows the private /dev for root's project only", async () => {
    const rootDir = project('dry-root', 0o700);
    const userDir = project('dry-user', 0o700, 1500);
    const root = await run(rootDir, ['--dry-run', '--', 'true']);
    expect(root.stdout).toContain(
      `-v ${ROOTFUL_DEVICE_DIR}:/dev:ro --mount type=devpts,destination=/dev/pts,gid=5,mode=620`,
    );
    expect(root.stdout).toContain('--uidmap 0:0:1');
    const user = await run(userDir, ['--dry-run', '--', 'true']);
    expect(user.stdout).not.toContain(':/dev:ro');
  });
});

describe.runIf(IS_ROOT)('the private device directory', () => {
  // Beside the real one: on the filesystem it must live on (not nodev), which /tmp need not be.
  const scratch = (): string => {
    mkdirSync(dirname(ROOTFUL_DEVICE_DIR), { recursive: true, mode: 0o755 });
    return mkdtempSync(join(dirname(ROOTFUL_DEVICE_DIR), 'test-devdir-'));
  };
  it('is made once, left alone when right, and rebuilt when a node was replaced', async () => {
    const parent = scratch();
    try {
      const dir = join(parent, 'dev');
      expect(await ensureDeviceDir(dir)).toBe(true);
      expect(deviceDirProblems(dir)).toEqual([]);
      expect(lstatSync(join(dir, 'null')).isCharacterDevice()).toBe(true);
      expect(await ensureDeviceDir(dir)).toBe(false);
      unlinkSync(join(dir, 'null'));
      writeFileSync(join(dir, 'null'), 'planted');
      expect(deviceDirProblems(dir)).toEqual(['null is not the 1:3 device node']);
      expect(await ensureDeviceDir(dir)).toBe(true);
      expect(deviceDirProblems(dir)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('refuses a parent others can write', async () => {
    const parent = scratch();
    try {
      chmodSync(parent, 0o777);
      await expect(ensureDeviceDir(join(parent, 'dev'))).rejects.toThrow(
        /must be a directory of root's that no one else can write/,
      );
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

/** Rootless is unaffected: container root is the host user; no id maps, no private /dev. */
describe.each(MODES)("root image in the user's own 0700 project, %s", (as) => {
  const sandbox = new Sandbox(as);
  afterAll(() => sandbox.cleanup());

  it(`exits with the command's code; files are the project owner's (${modeLabel(as)})`, async () => {
    const dir = sandbox.project('own');
    chmodSync(dir, 0o700);
    const owner = as === 'rootless' && IS_ROOT ? uidOf(ROOTLESS_USER)! : (process.getuid?.() ?? 0);
    const r = await sandbox.mino([
      'run',
      '-p',
      dir,
      '--network',
      'none',
      '--no-home',
      '--image',
      TEST_IMAGE,
      '--',
      'sh',
      '-c',
      'touch made; exit 7',
    ]);
    expect(r).toMatchObject({ exitCode: 7, stderr: '' });
    expect(statSync(join(dir, 'made')).uid).toBe(owner);
    const dry = await sandbox.mino([
      'run',
      '-p',
      dir,
      '--network',
      'none',
      '--no-home',
      '--image',
      TEST_IMAGE,
      '--dry-run',
      '--',
      'true',
    ]);
    if (as === 'rootless') {
      expect(dry.stdout).not.toContain('--uidmap');
      expect(dry.stdout).not.toContain(':/dev:ro');
    }
  });
});
