import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMino, type MinoResult } from '../../helpers/run-mino.js';
import { IS_ROOT, TEST_IMAGE, TEST_LABEL, TEST_RUN } from '../../helpers/test-env.js';

/**
 * An engine of its own for `mino cache` tests: podman with a private storage (graphroot and
 * runroot in a temporary directory, chosen through CONTAINERS_STORAGE_CONF), holding only the
 * busybox test image and what a test makes. `mino cache gc/clear` sees every mino volume and
 * image of an engine, so on the shared one they would touch the machine's real composed images
 * and other tests' volumes; here they cannot. Runs as this process's user (root: rootful).
 */
export class IsolatedEngine {
  readonly root: string;
  readonly env: Record<string, string>;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'mino-cache-engine-'));
    chmodSync(this.root, 0o755);
    const driver =
      spawnSync('podman', ['info', '--format', '{{.Store.GraphDriverName}}'], { encoding: 'utf8' }).stdout.trim() ||
      'overlay';
    const conf = join(this.root, 'storage.conf');
    writeFileSync(
      conf,
      `[storage]\ndriver = "${driver}"\ngraphroot = "${join(this.root, 'graph')}"\nrootless_storage_path = "${join(this.root, 'graph')}"\nrunroot = "${join(this.root, 'run')}"\n`,
    );
    const dirs = {
      XDG_CONFIG_HOME: join(this.root, 'config'),
      XDG_STATE_HOME: join(this.root, 'state'),
      XDG_DATA_HOME: join(this.root, 'data'),
    };
    for (const d of Object.values(dirs)) mkdirSync(d);
    this.env = { ...dirs, CONTAINERS_STORAGE_CONF: conf };
    const archive = join(this.root, 'test-image.tar');
    const saved = spawnSync('podman', ['save', '-q', '-o', archive, TEST_IMAGE], { encoding: 'utf8' });
    if (saved.status !== 0) throw new Error(`podman save ${TEST_IMAGE} failed: ${saved.stderr}`);
    const loaded = this.podman(['load', '-q', '-i', archive]);
    if (loaded.status !== 0) throw new Error(`podman load failed: ${loaded.stderr}`);
    rmSync(archive);
  }

  /** The state directory mino uses here. */
  get stateDir(): string {
    return join(this.env.XDG_STATE_HOME!, 'mino');
  }

  /** Runs podman on this engine; never throws. */
  podman(args: string[]): { stdout: string; stderr: string; status: number } {
    const r = spawnSync('podman', args, { encoding: 'utf8', env: { ...process.env, ...this.env }, cwd: '/tmp' });
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? 1 };
  }

  /** Runs mino on this engine. */
  mino(args: string[], timeoutMs = 120_000): Promise<MinoResult> {
    return runMino(args, { env: this.env, timeoutMs });
  }

  /** Volume names on this engine. */
  volumes(): string[] {
    return this.podman(['volume', 'ls', '--format', '{{.Name}}']).stdout.split('\n').filter(Boolean).sort();
  }

  /** A project directory the container user (uid 1000 in mino images) can write. */
  project(name: string, files: Record<string, string> = {}): string {
    const dir = join(this.root, 'projects', name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    if (IS_ROOT) spawnSync('chown', ['-R', '1000:1000', dir]);
    return dir;
  }

  /**
   * Builds an image named like a mino image (`developer` uid 1000, home at /home/developer) from
   * the test image; with `composed`, labelled as a composed image so `mino cache` lists it.
   */
  minoLikeImage(tag: string, composed: boolean): string {
    const dir = mkdtempSync(join(this.root, 'build-'));
    writeFileSync(
      join(dir, 'Containerfile'),
      [
        `FROM ${TEST_IMAGE}`,
        'RUN mkdir -p /cache && chown -R 1000:1000 /home/developer /cache',
        'USER 1000',
        // A label of its own, so two such images never collapse into one image with two names.
        `LABEL ${TEST_LABEL}=${TEST_RUN} io.mino.test.image=${hex(12)}`,
        ...(composed ? ['LABEL io.mino.composed=1 io.mino.composed.layers=fake@1'] : []),
        '',
      ].join('\n'),
    );
    const r = this.podman(['build', '-q', '--pull=never', '--network', 'none', '-t', tag, dir]);
    if (r.status !== 0) throw new Error(`podman build failed: ${r.stderr}`);
    return tag;
  }

  /** Removes every container, volume and image of this engine, then its directory. */
  destroy(): void {
    const ids = this.podman(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) this.podman(['rm', '-f', '-t', '0', ...ids]);
    const vols = this.volumes();
    if (vols.length > 0) this.podman(['volume', 'rm', '-f', ...vols]);
    this.podman(['rmi', '-a', '-f']);
    if (IS_ROOT) {
      // The overlay driver keeps its directory mounted: unmount what lies under the engine.
      const mounts = readFileSync('/proc/self/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(`${this.root}/`))
        .sort()
        .reverse();
      for (const m of mounts) spawnSync('umount', ['-l', m]);
    } else {
      spawnSync('podman', ['unshare', 'rm', '-rf', this.root], { env: { ...process.env, ...this.env } });
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Names after a verb at line start (`would remove NAME (...)`, `removed NAME ...`, `keep NAME:`). */
export function namesAfter(output: string, verb: string): string[] {
  const names: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${verb} `)) continue;
    const m = /^(\S+?)(?=: | \(|$)/.exec(line.slice(verb.length + 1));
    if (m?.[1]) names.push(m[1]);
  }
  return names.sort();
}

/** A random lower-case hex string of `n` digits. */
export function hex(n: number): string {
  return [...Array(n)].map(() => Math.floor(Math.random() * 16).toString(16)).join('');
}
