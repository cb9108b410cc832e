import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { runOn, useRemoteRig } from '../../helpers/remote-engine-rig.js';
import { MODES, Sandbox, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import {
  IS_ROOT,
  ROOTFUL_PROJECT_OWNER,
  ROOTLESS_USER,
  TEST_IMAGE,
  stateKeyOf,
  uidOf,
} from '../../helpers/test-env.js';
import { waitFor } from '../../helpers/wait-for.js';

/**
 * Remote engines end to end, over real ssh: a session started here runs on another user's
 * rootless Podman (test/helpers/remote-engine-rig.ts), edits the project (which that user cannot
 * read: only what mino shipped is there), and the edits are here afterwards; a file changed on
 * both sides keeps both versions. The test run's one rig (its start is the expensive part), with
 * no image there when this file starts: it ships the test image itself.
 */

requirePrerequisites();
const rig = useRemoteRig({ freshImages: true });

/** A project of `files`, owned by the user mino runs as, mode 0700 (the engine's user cannot read it). */
function project(box: Sandbox, name: string, files: Record<string, string>): string {
  const dir = box.project(name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  // Rootful: a project of a normal user (root writes what comes back as that user's files).
  if (IS_ROOT) spawnSync('chown', ['-R', `${ownerOf(box)}:${ownerOf(box)}`, dir]);
  chmodSync(dir, 0o700);
  return dir;
}

/** The mino process of a spawned run (rootless under root: the child of the runuser wrapper). */
function killedMinoPid(pid: number): number {
  if (!IS_ROOT) return pid;
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return out ? Number(out.split('\n')[0]) : pid;
}

/** Who owns a test project: the rootless test user, or (rootful) ROOTFUL_PROJECT_OWNER. */
function ownerOf(box: Sandbox): number {
  return box.as === 'rootless' ? uidOf(ROOTLESS_USER)! : ROOTFUL_PROJECT_OWNER;
}

describe.each(MODES)('a session on a remote engine over ssh (%s)', (as) => {
  const mode = modeLabel(as);
  const box = new Sandbox(as);
  afterAll(() => box.cleanup());
  const engine = `rig-${mode}`;

  it('engine add checks the engine; setup --engine puts the image there', async () => {
    const add = await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)]);
    expect(add.stderr).toContain(`Engine ${engine} added`);
    expect(add.exitCode).toBe(0);
    const setup = await box.mino(['setup', '--engine', engine, '--image', TEST_IMAGE]);
    expect(setup.stdout).toMatch(/Podman 4\.\d+\.\d+ \(rootless\)/);
    expect(setup.stdout).toMatch(/is on engine|Shipped/);
    expect(setup.exitCode).toBe(0);
    const list = await box.mino(['engine', 'list']);
    expect(list.stdout).toContain(rig.url);
    // The next command within a minute reuses the ssh connection setup made (no new handshake).
    box.env.MINO_TRACE = '1';
    const reuse = await box.mino(['cache', 'list', '--engine', engine]).finally(() => delete box.env.MINO_TRACE);
    expect(reuse.exitCode).toBe(0);
    expect(reuse.stderr).toContain('ssh tunnel reused');
    expect(reuse.stderr).not.toContain('ssh tunnel start');
  });

  it('runs there, edits the project, and the edits are here afterwards', async () => {
    const dir = project(box, 'edits', {
      'src/a.txt': 'one\n',
      'gone.txt': 'bye\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
    });
    symlinkSync('src/a.txt', join(dir, 'link'));
    if (IS_ROOT) spawnSync('chown', ['-h', String(ownerOf(box)), join(dir, 'link')]);
    // The engine's user cannot read the project: the session sees only what was shipped.
    const [reader, ...readArgs] = rig.user.asUser(['cat', join(dir, 'src/a.txt')]);
    expect(spawnSync(reader!, readArgs).status).not.toBe(0);
    const script = [
      'cat .git/HEAD',
      'readlink link',
      'echo two >> src/a.txt',
      'rm gone.txt',
      'mkdir -p out/deep && echo made > out/deep/new.txt',
      'printf "#!/bin/sh\\n" > run.sh && chmod 755 run.sh',
      'ln -s out/deep/new.txt link2',
    ].join(' && ');
    const r = await box.mino([...runOn(engine, dir), '--network', 'none', '--', 'sh', '-c', script]);
    expect(r.stderr).toContain(`Shipped`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('ref: refs/heads/main');
    expect(r.stdout).toContain('src/a.txt');
    expect(readFileSync(join(dir, 'src/a.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(existsSync(join(dir, 'gone.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'out/deep/new.txt'), 'utf8')).toBe('made\n');
    if (IS_ROOT) expect(statSync(join(dir, 'out/deep/new.txt')).uid).toBe(ownerOf(box));
    expect(lstatSync(join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(dir, 'link2'))).toBe('out/deep/new.txt');
    expect(r.stderr).toMatch(/Brought back \d+ change/);

    // A second run sends only what changed here: one file. With --network none (the network
    // policy on an engine is remote-network.test.ts's), a secret value (-e NAME) reaches it as a
    // podman secret on the engine, gone afterwards.
    writeFileSync(join(dir, 'src/a.txt'), 'three\n');
    box.env.MINO_RIG_SECRET = "s3'cret $x";
    const again = await box
      .mino([
        ...runOn(engine, dir),
        '--network',
        'none',
        '-e',
        'MINO_RIG_SECRET',
        '--',
        'sh',
        '-c',
        'cat src/a.txt; echo "secret=$MINO_RIG_SECRET"; ls /sys/class/net',
      ])
      .finally(() => delete box.env.MINO_RIG_SECRET);
    expect(again.stderr).toContain('Shipped 1 entry');
    expect(again.stdout).toBe("three\nsecret=s3'cret $x\nlo\n");
    expect(again.exitCode).toBe(0);
    expect(rig.user.podman(['secret', 'ls', '--format', '{{.Name}}'])).not.toContain('mino-env');

    if (as === 'rootless') {
      // kill -9 of an attached run's mino leaves its secret on the engine while the container
      // runs; `mino stop` removes both (once is enough: the mode changes nothing there).
      box.env.MINO_RIG_SECRET = 'k1lled';
      const { child, done } = box.spawn([
        ...runOn(engine, dir),
        '-n',
        'killed',
        '--network',
        'none',
        '-e',
        'MINO_RIG_SECRET',
        '--',
        'sleep',
        '120',
      ]);
      delete box.env.MINO_RIG_SECRET;
      const secrets = (): string => rig.user.podman(['secret', 'ls', '--format', '{{.Name}}']);
      await waitFor(
        () =>
          secrets().includes('mino-env') && rig.user.podman(['ps', '--format', '{{.Names}}']).includes('mino-killed'),
        30_000,
        'the session on the engine',
      );
      process.kill(killedMinoPid(child.pid!), 'SIGKILL');
      await done;
      expect(secrets()).toContain('mino-env');
      const stop = await box.mino(['stop', '-f', 'killed']);
      expect(stop.exitCode).toBe(0);
      expect(secrets()).not.toContain('mino-env');
    }
  });

  it('a file changed on both sides loses nothing; list shows the engine; sync and stop bring changes back', async () => {
    const dir = project(box, 'conflict', { 'f.txt': 'base\n', 'keep.txt': 'k\n' });
    const name = `remote-${mode}`;
    box.env.MINO_RIG_SECRET = 'd3tached';
    const start = await box.mino([
      ...runOn(engine, dir),
      '-e',
      'MINO_RIG_SECRET',
      '-d',
      '-n',
      name,
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'echo remote > f.txt; echo fresh > new.txt; sleep 60',
    ]);
    delete box.env.MINO_RIG_SECRET;
    expect(start.exitCode).toBe(0);
    // A detached session's secret is gone from the engine once it started; the session keeps it.
    expect(rig.user.podman(['secret', 'ls', '--format', '{{.Name}}'])).not.toContain('mino-env');
    writeFileSync(join(dir, 'f.txt'), 'local\n');
    const list = await box.mino(['list']);
    expect(list.stdout).toMatch(new RegExp(`${name}\\s+\\S+\\s+running\\s+-\\s+\\S+\\s+${engine}`));
    // Removing the engine a running session uses is refused.
    const rm = await box.mino(['engine', 'remove', engine]);
    expect(rm.exitCode).toBe(1);
    expect(rm.stderr).toContain(`in use by session(s) ${name}`);
    await waitFor(
      async () => (await box.mino(['sync', name])).stderr.includes('Conflict: f.txt'),
      20_000,
      'the remote edit',
    );
    expect(readFileSync(join(dir, 'f.txt'), 'utf8')).toBe('local\n');
    expect(readFileSync(join(dir, 'f.txt.mino-remote'), 'utf8')).toBe('remote\n');
    expect(readFileSync(join(dir, 'new.txt'), 'utf8')).toBe('fresh\n');
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('k\n');
    // exec reaches the session where it runs.
    const exec = await box.mino(['exec', name, '--', 'sh', '-c', 'cat f.txt; echo "$MINO_RIG_SECRET"']);
    expect(exec.stdout).toBe('remote\nd3tached\n');

    if (as === 'rootless') {
      // An engine that does not answer: its sessions are unknown, never ended (once is enough).
      rig.stopSshd();
      const blind = await box.mino(['list', '--format', 'json']);
      expect(blind.stderr).toContain(`Engine ${engine} did not answer`);
      expect(JSON.parse(blind.stdout)).toEqual([
        expect.objectContaining({ name, status: 'running', state: 'unknown' }),
      ]);
      await rig.restartSshd();
    }

    const stop = await box.mino(['stop', '-f', name]);
    expect(stop.exitCode).toBe(0);
    const after = await box.mino(['list', '-a', '--format', 'json']);
    const ended = (JSON.parse(after.stdout) as { name: string; engine?: string; status: string }[]).find(
      (s) => s.name === name,
    );
    expect(ended).toMatchObject({ engine, status: 'stopped' });
  });

  // Once (rootless): the mode changes nothing on the engine's side.
  if (as === 'rootless')
    it("kill -9 of a contained run's mino: reconciliation removes its proxy and network there; the proxy image is in mino cache there", async () => {
      const dir = project(box, 'contained', { 'a.txt': 'a\n' });
      const egress = (): string =>
        `${rig.podman(['ps', '-a', '--format', '{{.Names}}'])}\n${rig.podman(['network', 'ls', '--format', '{{.Name}}'])}`;
      const { child, done } = box.spawn([...runOn(engine, dir), '-n', 'contained-killed', '--', 'sleep', '3']);
      await waitFor(
        () => /mino-egress-[^n]/.test(egress()) && egress().includes('mino-contained-killed'),
        90_000,
        "the session and its proxy on the engine (the first contained run there builds the proxy's image)",
      );
      expect(egress()).toContain('mino-egress-net-');
      process.kill(killedMinoPid(child.pid!), 'SIGKILL');
      await done;
      // The session's container ends by itself; its proxy and network stay until mino looks.
      await waitFor(() => !egress().includes('mino-contained-killed'), 30_000, 'the session to end');
      expect(egress()).toMatch(/mino-egress-/);
      const list = await box.mino(['list', '-a']);
      expect(list.exitCode).toBe(0);
      expect(egress()).not.toMatch(/mino-egress-/);
      // The proxy's image (mino's own, made there) is listed by mino cache there, and cleared.
      const cache = JSON.parse((await box.mino(['cache', 'list', '--engine', engine, '-f', 'json'])).stdout) as {
        images: { name: string; kind: string }[];
      };
      expect(cache.images.filter((i) => i.kind === 'egress').map((i) => i.name)).toEqual([
        expect.stringMatching(/^localhost\/mino-egress:[0-9a-f]{16}$/),
      ]);
      const cleared = await box.mino(['cache', 'clear', '--images', '--engine', engine, '--yes']);
      expect(cleared.stdout + cleared.stderr).toMatch(/removed localhost\/mino-egress:/);
      expect(rig.podman(['images', '--format', '{{.Repository}}'])).not.toContain('mino-egress');
    });

  // Once (rootless): these fail before anything reaches an engine, or on the engine side only.
  if (as === 'rootless')
    it('refuses what it cannot do (an unknown engine, a host path volume, a wrong key); composes layers there; lists caches there', async () => {
      const dir = project(box, 'refused', { 'a.txt': 'a\n' });
      const unknown = await box.mino(['run', '--engine', 'nope', '-p', dir, '--', 'true']);
      expect(unknown.exitCode).toBe(2);
      expect(unknown.stderr).toContain("Unknown engine 'nope'");
      const data = box.project('hostdir');
      const vol = await box.mino([...runOn(engine, dir), '--volume', `${data}:/data`, '--', 'true']);
      expect(vol.exitCode).toBe(2);
      expect(vol.stderr).toContain('cannot be mounted on engine');
      // Layers compose on the engine, on ITS mino-base (here the test image under that name), once.
      const layerDir = join(box.env.XDG_CONFIG_HOME!, 'mino', 'layers', 'rlayer');
      mkdirSync(layerDir, { recursive: true });
      writeFileSync(
        join(layerDir, 'layer.toml'),
        '[layer]\nname = "rlayer"\ndescription = "made there"\nversion = "7"\n\n[env]\nRLAYER = "on"\n',
      );
      writeFileSync(join(layerDir, 'install.sh'), '#!/bin/sh\nset -eu\necho "built there" > /opt-rlayer\n', {
        mode: 0o755,
      });
      if (IS_ROOT)
        spawnSync('chown', ['-R', `${ownerOf(box)}:${ownerOf(box)}`, join(box.env.XDG_CONFIG_HOME!, 'mino')]);
      const noBase = await box.mino(['run', '--engine', engine, '-p', dir, '--layers', 'rlayer', '--', 'true']);
      expect(noBase.exitCode).not.toBe(0);
      expect(noBase.stderr).toMatch(/mino-base:latest is not on engine .*, so layers rlayer cannot be composed/);
      rig.podman(['tag', TEST_IMAGE, 'localhost/mino-base:latest']);
      const layered = [
        'run',
        '--engine',
        engine,
        '--network',
        'none',
        '-p',
        dir,
        '--layers',
        'rlayer',
        '--',
        'sh',
        '-c',
        'cat /opt-rlayer; echo "$RLAYER"',
      ];
      const built = await box.mino(layered);
      expect(built.stdout).toBe('built there\non\n');
      expect(built.exitCode).toBe(0);
      expect(rig.podman(['images', '--format', '{{.Repository}}'])).toMatch(/mino-composed-[0-9a-f]{12}/);
      // Built there, not here.
      expect(podmanAs(as, ['images', '-q', '--filter', 'label=io.mino.composed.layers=rlayer@7']).stdout).toBe('');
      const again = await box.mino(layered);
      expect(again.stdout).toBe('built there\non\n');
      expect(again.stderr).not.toContain('Building the image');
      // Caches are listed where asked.
      const caches = await box.mino(['cache', 'list', '--engine', engine, '--format', 'json']);
      expect(caches.exitCode).toBe(0);
      expect(JSON.parse(caches.stdout)).toHaveProperty('home_volumes');
      expect((await box.mino(['cache', 'list', '--engine', 'nope'])).exitCode).toBe(2);
      const pool = await box.mino(['pool', 'warm', '--engine', 'nope', '-p', dir]);
      expect(pool.exitCode).toBe(2);
      expect(pool.stderr).toContain("Unknown engine 'nope'");
      const wrongKey = await box.mino(['engine', 'add', 'wrong', rig.url, '--identity', rig.key(as, 'wrong')]);
      expect(wrongKey.exitCode).toBe(1);
      expect(wrongKey.stderr).toContain('refused the ssh key');
      expect((await box.mino(['engine', 'list'])).stdout).not.toContain('wrong');
    });

  it('a persistent sync helper serves the next run (no helper container started); it idles out; engine remove removes it', async () => {
    const dir = project(box, 'helper', { 'n.txt': '0\n' });
    const key = stateKeyOf(join(box.env.XDG_STATE_HOME as string, 'mino'));
    const helpers = (): string[] =>
      rig
        .podman(['ps', '-a', '--filter', 'label=io.mino.sync.helper=1', '--filter', `label=io.mino.state=${key}`, '-q'])
        .split('\n')
        .filter(Boolean);
    const bump = (): Promise<{ stdout: string; stderr: string; exitCode: number }> =>
      box.mino([
        'run',
        '--engine',
        engine,
        '--network',
        'none',
        '--image',
        TEST_IMAGE,
        '-p',
        dir,
        '--',
        'sh',
        '-c',
        'echo $(( $(cat n.txt) + 1 )) > n.txt',
      ]);
    // Helpers of this sandbox's earlier copies may still run: the copy's own is the new one.
    const before = new Set(helpers());
    box.env.MINO_TRACE = '1';
    try {
      const first = await bump();
      expect(first.exitCode).toBe(0);
      expect(readFileSync(join(dir, 'n.txt'), 'utf8')).toBe('1\n');
      const mine = helpers().filter((id) => !before.has(id));
      expect(mine).toHaveLength(1);
      // The second run: its trips exec into the same helper; no helper container starts.
      const second = await bump();
      expect(second.exitCode).toBe(0);
      expect(readFileSync(join(dir, 'n.txt'), 'utf8')).toBe('2\n');
      expect(second.stderr).toContain('sync trip in the helper');
      expect(second.stderr).not.toContain('sync trip in a container of its own');
      expect(second.stderr).not.toContain('sync helper started');
      expect(second.stderr).not.toContain('sync helper gone');
      expect(helpers().filter((id) => !before.has(id))).toEqual(mine);
    } finally {
      delete box.env.MINO_TRACE;
    }
    // engine remove removes it (and the engine: added again below).
    expect((await box.mino(['engine', 'remove', engine])).exitCode).toBe(0);
    expect(helpers()).toEqual([]);
    expect((await box.mino(['engine', 'add', engine, rig.url, '--identity', rig.key(as)])).exitCode).toBe(0);
    // With a short idle time (MINO_SYNC_HELPER_IDLE, for tests) it ends by itself after the run.
    box.env.MINO_SYNC_HELPER_IDLE = '1';
    try {
      expect((await bump()).exitCode).toBe(0);
    } finally {
      delete box.env.MINO_SYNC_HELPER_IDLE;
    }
    expect(readFileSync(join(dir, 'n.txt'), 'utf8')).toBe('3\n');
    await waitFor(() => helpers().length === 0, 15_000, 'the idle helper to end');
  });
});
