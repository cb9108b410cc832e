import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThrowawayUser } from './throwaway-user.js';
import { IN_CI, ROOTLESS_USER, TEST_IMAGE, uidOf } from './test-env.js';

/**
 * A second Podman engine on this machine for the remote-engine tests: a throwaway user's
 * rootless `podman system service` on a unix socket, reached over ssh through Debian's sshd,
 * started here on 127.0.0.1 (a free port) with a throwaway host key and client key. The system's
 * own sshd service is never touched. The engine's user cannot read the test projects (0700), so
 * a session there only sees what mino shipped.
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

/** The running rig. */
export class RemoteEngineRig {
  readonly user: ThrowawayUser;
  readonly dir = mkdtempSync(join(tmpdir(), 'mino-rig-'));
  port = 0;
  private service: ReturnType<typeof spawn> | undefined;

  /** @param userName the engine's throwaway user (a file of its own keeps it apart from other rigs' runs) */
  constructor(userName = 'mino-remote-eng') {
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

  async start(): Promise<void> {
    chmodSync(this.dir, 0o755);
    this.user.create();
    sh(['usermod', '-p', '*', this.user.name]); // no password, but not locked: sshd lets keys in
    const socketDir = `/run/user/${this.user.uid}/podman`;
    mkdirSync(socketDir, { recursive: true });
    chownSync(socketDir, this.user.uid, this.user.uid);
    const [svc, ...svcArgs] = this.user.asUser(['podman', 'system', 'service', '--time=0', `unix://${this.socket}`]);
    this.service = spawn(svc!, svcArgs, { cwd: '/', stdio: 'ignore', detached: true });
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

  /** Loads the busybox test image into the engine's store. */
  loadTestImage(): void {
    const archive = spawnSync('podman', ['save', '--format', 'oci-archive', TEST_IMAGE], { maxBuffer: 256 << 20 });
    if (archive.status !== 0) throw new Error(`podman save failed: ${archive.stderr}`);
    sh(this.user.asUser(['podman', 'load']), archive.stdout);
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

  /** Stops everything and removes the user with its store. */
  stop(): void {
    this.stopSshd();
    if (this.service?.pid) {
      try {
        process.kill(-this.service.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    this.user.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts the rig, or fails (CI) / says why it cannot run. */
export async function startRig(userName?: string): Promise<RemoteEngineRig> {
  const problem = rigProblem();
  if (problem) throw new Error(IN_CI ? `CI: ${problem}` : problem);
  const rig = new RemoteEngineRig(userName);
  await rig.start();
  return rig;
}
