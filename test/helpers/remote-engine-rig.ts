import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { acquire, release } from './exclusive.js';
import { ThrowawayUser } from './throwaway-user.js';
import { IN_CI, ROOTLESS_USER, TEST_IMAGE, TEST_RUN, uidOf } from './test-env.js';

/**
 * A second Podman engine on this machine for the remote-engine tests: a throwaway user's
 * rootless `podman system service` on a unix socket, reached over ssh through Debian's sshd,
 * started here on 127.0.0.1 (a free port) with a throwaway host key and client key. The system's
 * own sshd service is never touched. The engine's user cannot read the test projects (0700), so
 * a session there only sees what mino shipped.
 *
 * One rig serves the whole test run ({@link useRemoteRig}): the first remote test file starts it,
 * the remote files take turns on it, each leaves the engine empty but for its images, and the
 * global teardown stops it ({@link stopSharedRig}).
 */

const SSHD = '/usr/sbin/sshd';

function sh(argv: string[], input?: Buffer): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, encoding: 'utf8', cwd: '/', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Why the rig cannot start here, or undefined. */
function rigProblem(): string | undefined {
  if ((process.getuid?.() ?? 1) !== 0) return 'the remote-engine rig needs root (a throwaway user and sshd)';
  if (!existsSync(SSHD)) return 'openssh-server is not installed (apt-get install openssh-server)';
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What a started rig writes into its directory (rig.json) for the later users and the teardown. */
interface RigState {
  port: number;
  /** The `podman system service` (leader of its own process group). */
  servicePid: number;
}

/** The running rig. */
export class RemoteEngineRig {
  readonly user: ThrowawayUser;
  port = 0;
  private servicePid = 0;

  /**
   * @param userName the engine's throwaway user (a file of its own keeps it apart from other rigs' runs)
   * @param dir where its keys, sshd's configuration and state go (a fresh temporary one by default)
   */
  constructor(
    userName = 'mino-remote-eng',
    readonly dir = mkdtempSync(join(tmpdir(), 'mino-rig-')),
  ) {
    this.user = new ThrowawayUser(userName);
  }

  /** The engine URL (ssh to the service's socket). */
  get url(): string {
    return `ssh://${this.user.name}@127.0.0.1:${this.port}${this.socket}`;
  }

  get socket(): string {
    return `/run/user/${this.user.uid}/podman/podman.sock`;
  }

  /** The client key for `as` (root: its own copy; rootless: a copy the test user owns); `wrong`: one sshd does not know. */
  key(as: 'self' | 'rootless', which: 'client' | 'wrong' = 'client'): string {
    return join(this.dir, `${which}_key${as === 'rootless' ? '_rootless' : ''}`);
  }

  private get stateFile(): string {
    return join(this.dir, 'rig.json');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    chmodSync(this.dir, 0o755);
    this.user.create();
    sh(['usermod', '-p', '*', this.user.name]); // no password, but not locked: sshd lets keys in
    const socketDir = `/run/user/${this.user.uid}/podman`;
    mkdirSync(socketDir, { recursive: true });
    chownSync(socketDir, this.user.uid, this.user.uid);
    const [svc, ...svcArgs] = this.user.asUser(['podman', 'system', 'service', '--time=0', `unix://${this.socket}`]);
    // Detached and unreferenced: it outlives the test file (the worker) that started it.
    const service = spawn(svc!, svcArgs, { cwd: '/', stdio: 'ignore', detached: true });
    service.unref();
    this.servicePid = service.pid ?? 0;
    for (const name of ['host_key', 'client_key', 'wrong_key']) {
      sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'mino-test-rig', '-f', join(this.dir, name)]);
    }
    const rootlessUid = uidOf(ROOTLESS_USER);
    for (const which of ['client', 'wrong'] as const) {
      copyFileSync(this.key('self', which), this.key('rootless', which));
      if (rootlessUid !== undefined) chownSync(this.key('rootless', which), rootlessUid, rootlessUid);
      chmodSync(this.key('rootless', which), 0o600);
    }
    copyFileSync(`${this.key('self')}.pub`, join(this.dir, 'authorized_keys'));
    chmodSync(join(this.dir, 'authorized_keys'), 0o644);
    this.port = await freePort();
    writeFileSync(
      join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AllowUsers ${this.user.name}`,
        '',
      ].join('\n'),
    );
    await this.restartSshd();
    await waitFor(() => existsSync(this.socket), 'the engine socket');
    const state: RigState = { port: this.port, servicePid: this.servicePid };
    writeFileSync(this.stateFile, JSON.stringify(state));
  }

  /** Takes over the rig another process started in {@link dir}; false when none was started there. */
  attach(): boolean {
    if (!existsSync(this.stateFile)) return false;
    const state = JSON.parse(readFileSync(this.stateFile, 'utf8')) as RigState;
    this.port = state.port;
    this.servicePid = state.servicePid;
    const uid = uidOf(this.user.name);
    if (uid === undefined) return false;
    this.user.uid = uid;
    return true;
  }

  /** Starts sshd (again, after {@link stopSshd}). */
  async restartSshd(): Promise<void> {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    sh([SSHD, '-f', join(this.dir, 'sshd_config'), '-E', join(this.dir, 'sshd.log')]);
    await waitFor(() => existsSync(join(this.dir, 'sshd.pid')), 'sshd');
  }

  /** Runs podman as the engine's user (locally, not through ssh). */
  podman(args: string[]): string {
    return this.user.podman(args, true);
  }

  /** Loads the busybox test image into the engine's store (nothing when that very image is there). */
  loadTestImage(): void {
    const id = (argv: string[]): string =>
      spawnSync(argv[0]!, [...argv.slice(1), 'image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE], {
        encoding: 'utf8',
        cwd: '/',
      }).stdout?.trim() ?? '';
    const here = id(['podman']);
    if (here !== '' && id(this.user.asUser(['podman'])) === here) return;
    const archive = spawnSync('podman', ['save', '--format', 'oci-archive', TEST_IMAGE], { maxBuffer: 256 << 20 });
    if (archive.status !== 0) throw new Error(`podman save failed: ${archive.stderr}`);
    sh(this.user.asUser(['podman', 'load']), archive.stdout);
  }

  /** Names of the mino egress proxies and their networks on the engine (`stateKey`: of that state directory only). */
  egressOnEngine(stateKey?: string): string[] {
    const filter = stateKey === undefined ? [] : ['--filter', `label=io.mino.state=${stateKey}`];
    return [
      ...this.podman(['ps', '-a', ...filter, '--format', '{{.Names}}']).split('\n'),
      ...this.podman(['network', 'ls', ...filter, '--format', '{{.Name}}']).split('\n'),
    ].filter((n) => n.startsWith('mino-egress'));
  }

  /** Stops sshd (the engine becomes unreachable; {@link restartSshd} brings it back). */
  stopSshd(): void {
    const pidFile = join(this.dir, 'sshd.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
    rmSync(pidFile, { force: true });
    // Connections already made outlive the listener (mino's shared tunnels among them): end the
    // engine user's ssh sessions too, by pid, so the engine is really out of reach.
    const sessions = spawnSync('ps', ['-u', String(this.user.uid), '-o', 'pid=,comm='], { encoding: 'utf8' });
    for (const line of (sessions.stdout ?? '').split('\n')) {
      const [pid, comm] = line.trim().split(/\s+/);
      if (comm !== 'sshd' || !pid) continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  /**
   * Leaves the engine as the next test file should find it: reachable, and without containers,
   * pods, networks, volumes or secrets (images stay: the test image, the egress proxy's image).
   */
  async reset(): Promise<void> {
    if (!existsSync(join(this.dir, 'sshd.pid'))) await this.restartSshd();
    this.podman(['pod', 'rm', '-a', '-f']);
    this.podman(['rm', '-a', '-f', '-t', '0']);
    this.podman(['network', 'prune', '-f']);
    this.podman(['volume', 'rm', '-a', '-f']);
    this.podman(['secret', 'rm', '--all']);
  }

  /** Stops everything and removes the user with its store. */
  stop(): void {
    this.stopSshd();
    if (this.servicePid > 0) {
      try {
        process.kill(-this.servicePid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    this.user.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** mino's flags that run the test image on `engine` with the project `dir` (more flags may follow). */
export function onEngine(engine: string, dir: string): string[] {
  return ['--engine', engine, '--image', TEST_IMAGE, '-p', dir];
}

/** `mino run` of the test image on `engine` with the project `dir` (more flags may follow). */
export function runOn(engine: string, dir: string): string[] {
  return ['run', ...onEngine(engine, dir)];
}

/** The shared rig's id for the test run `run`: fit for a user name (mino-rig-<id>, at most 32 characters). */
function rigId(run: string): string {
  return (
    run
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 20) || 'local'
  );
}

/** Directory of the shared rig `id`. */
function sharedDir(id: string): string {
  return join(tmpdir(), `mino-test-rig-${id}`);
}

/** The engine user of the shared rig `id`. */
function sharedUser(id: string): string {
  return `mino-rig-${id}`;
}

/** The pid of the vitest process of this test run (the rig's owner), as the global setup told the workers. */
function ownerPid(): number {
  return Number(process.env.MINO_TEST_MAIN_PID) || process.ppid;
}

/**
 * Makes the calling test file a user of the test run's one remote rig (call it at the top level,
 * before the file's own hooks, instead of exclusive()): before the file's first test it waits for
 * its turn (the remote files take turns: one engine, whole-engine checks), starts the rig if no
 * file did yet, and (`freshImages`) removes every image there; after its last cleanup it empties
 * the engine for the next file (see {@link RemoteEngineRig.reset}). The global teardown stops the
 * rig ({@link stopSharedRig}).
 */
export function useRemoteRig(options: { freshImages?: boolean } = {}): RemoteEngineRig {
  const id = rigId(TEST_RUN);
  const rig = new RemoteEngineRig(sharedUser(id), sharedDir(id));
  beforeAll(async () => {
    await acquire('remote-rig');
    if (!rig.attach()) {
      const problem = rigProblem();
      if (problem) throw new Error(IN_CI ? `CI: ${problem}` : problem);
      // useradd and userdel must not meet another file's (they lock /etc/passwd and fail).
      await acquire('throwaway-users');
      try {
        mkdirSync(rig.dir, { recursive: true });
        writeFileSync(join(rig.dir, 'owner'), String(ownerPid())); // before the user: see stopStaleRigs
        await rig.start();
      } finally {
        release('throwaway-users');
      }
    }
    if (options.freshImages) rig.podman(['rmi', '-a', '-f']);
  }, 300_000);
  afterAll(async () => {
    try {
      if (rig.attach()) await rig.reset();
    } finally {
      release('remote-rig');
    }
  }, 120_000);
  return rig;
}

/** Stops the shared rig `id` and removes its user, store and directory, if it was started. */
function stopRig(id: string): void {
  const dir = sharedDir(id);
  const name = sharedUser(id);
  if (!existsSync(dir) && uidOf(name) === undefined) return;
  const rig = new RemoteEngineRig(name, dir);
  rig.attach();
  rig.stop();
}

/** Stops the shared rig of the test run `run` (the global teardown), if one was started. */
export function stopSharedRig(run: string): void {
  stopRig(rigId(run));
}

/**
 * Stops the shared rigs that killed test runs left (their vitest process is gone), so their users,
 * engines and sshd do not pile up. Rigs of runs going on at the same time are left alone.
 */
export function stopStaleRigs(): void {
  const users = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':')[0] ?? '')
    .filter((n) => /^mino-rig-[a-z0-9-]+$/.test(n));
  const ids = new Set([
    ...users.map((n) => n.slice('mino-rig-'.length)),
    ...readdirSync(tmpdir())
      .filter((e) => e.startsWith('mino-test-rig-'))
      .map((e) => e.slice('mino-test-rig-'.length)),
  ]);
  for (const id of ids) {
    if (id === rigId(TEST_RUN)) continue;
    let owner = 0;
    try {
      owner = Number(readFileSync(join(sharedDir(id), 'owner'), 'utf8'));
    } catch {
      // no owner file: the rig of a run killed before it wrote one
    }
    if (owner > 0 && alive(owner)) continue;
    stopRig(id);
  }
}
