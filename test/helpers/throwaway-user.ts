import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { nextFreeSubIdStart } from '../../src/setup/host-checks.js';
import { hasSubIdRange } from '../../src/setup/rootless-checks.js';
import { minoBinFor } from './test-env.js';

/**
 * A Unix user of a test's own (root only): created with a sub-id range and a runtime directory,
 * deleted with its podman store and processes. Tests that must break or reset a rootless engine
 * use one, so the shared rootless test user's store is never touched.
 */
export class ThrowawayUser {
  uid = -1;
  readonly home: string;

  constructor(readonly name: string) {
    this.home = `/home/${name}`;
  }

  private static sh(argv: string[], allowFail = false): string {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: '/' });
    if (r.status !== 0 && !allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout ?? '';
  }

  private existingUid(): number | undefined {
    const r = spawnSync('id', ['-u', this.name], { encoding: 'utf8' });
    return r.status === 0 ? Number(r.stdout.trim()) : undefined;
  }

  /** Creates the user (removing one left by an interrupted run first). */
  create(): void {
    this.remove();
    ThrowawayUser.sh(['useradd', '--create-home', '--shell', '/bin/sh', this.name]);
    this.uid = this.existingUid()!;
    for (const [file, flag] of [
      ['/etc/subuid', '--add-subuids'],
      ['/etc/subgid', '--add-subgids'],
    ] as const) {
      if (!hasSubIdRange(readFileSync(file, 'utf8'), this.name, this.uid)) {
        const start = nextFreeSubIdStart(readFileSync(file, 'utf8'));
        ThrowawayUser.sh(['usermod', flag, `${start}-${start + 65535}`, this.name]);
      }
    }
    const runtimeDir = `/run/user/${this.uid}`;
    mkdirSync(runtimeDir, { recursive: true });
    chownSync(runtimeDir, this.uid, this.uid);
    chmodSync(runtimeDir, 0o700);
  }

  /** `argv` as this user, with a clean login-like environment. */
  asUser(argv: string[]): string[] {
    return [
      'runuser',
      '-u',
      this.name,
      '--',
      'env',
      '-i',
      `HOME=${this.home}`,
      `USER=${this.name}`,
      `LOGNAME=${this.name}`,
      `XDG_RUNTIME_DIR=/run/user/${this.uid}`,
      `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
      'LANG=C.UTF-8',
      'NO_COLOR=1',
      ...argv,
    ];
  }

  /** Runs podman as this user; stdout, trimmed. */
  podman(args: string[], allowFail = false): string {
    return ThrowawayUser.sh(this.asUser(['podman', ...args]), allowFail).trim();
  }

  /** Ends every process of this user (kill -9). */
  killAll(): void {
    const pids = spawnSync('ps', ['-u', String(this.uid), '-o', 'pid='], { encoding: 'utf8' })
      .stdout.split('\n')
      .map(Number)
      .filter((p) => p > 1);
    for (const pid of pids) spawnSync('kill', ['-9', String(pid)]);
  }

  /** Runs the built CLI as this user, with `env` added to its environment, in `cwd`. */
  mino(
    args: string[],
    options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
  ): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const { timeoutMs = 120_000, env = {}, cwd = '/tmp' } = options;
    const argv = this.asUser([
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      minoBinFor('rootless'),
      ...args,
    ]);
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, exitCode: code ?? 1 });
      });
    });
  }

  /** Deletes the user, its store and its runtime directory (nothing when it does not exist). */
  remove(): void {
    const id = this.existingUid();
    if (id === undefined) return;
    this.uid = id;
    this.podman(['system', 'migrate'], true);
    this.podman(['system', 'reset', '-f'], true);
    this.killAll(); // its rootless pause process would block userdel
    ThrowawayUser.sh(['userdel', '-r', this.name], true);
    rmSync(`/run/user/${id}`, { recursive: true, force: true });
  }
}
