import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedXdg, runMino, type MinoResult, type RunAs } from './run-mino.js';
import {
  IS_ROOT,
  MINO_BIN,
  REPO_ROOT,
  ROOTLESS_USER,
  TEST_IMAGE,
  TEST_LABEL,
  TEST_RUN,
  minoBinFor,
  rootlessPrefix,
  stateKeyOf,
  uidOf,
} from './test-env.js';

/** Shared set-up of integration tests: who runs mino, podman as that user, a sandbox per test. */

/** The engines these tests run on: rootful (as root) and rootless. */
export const MODES: RunAs[] = IS_ROOT ? ['self', 'rootless'] : ['rootless'];

/** `rootful` or `rootless`, for test names. */
export function modeLabel(as: RunAs): string {
  return as === 'self' && IS_ROOT ? 'rootful' : 'rootless';
}

/** Runs podman as the user mino runs as; never throws. */
export function podmanAs(as: RunAs, args: string[]): { stdout: string; stderr: string; status: number } {
  const prefix = as === 'rootless' ? rootlessPrefix() : [];
  const argv = [...prefix, 'podman', ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: '/tmp' });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? 1 };
}

/** A random lower-case hex string. */
export function hex(n: number): string {
  return [...Array(n)].map(() => Math.floor(Math.random() * 16).toString(16)).join('');
}

/** One test user's world: isolated XDG directories, projects it owns, and cleanup. */
export class Sandbox {
  readonly env: NodeJS.ProcessEnv;
  readonly root: string;
  private readonly volumes = new Set<string>();

  constructor(readonly as: RunAs) {
    const xdg = isolatedXdg(as);
    this.root = xdg.root;
    this.env = {
      XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
      XDG_STATE_HOME: xdg.XDG_STATE_HOME,
      XDG_DATA_HOME: xdg.XDG_DATA_HOME,
      ...xdg.podmanEnv,
    };
  }

  /** A new project directory owned by the user mino runs as. */
  project(name: string): string {
    const dir = join(this.root, name);
    mkdirSync(dir);
    if (this.as === 'rootless' && IS_ROOT) {
      const uid = uidOf(ROOTLESS_USER)!;
      chownSync(dir, uid, uid);
    }
    return dir;
  }

  /** Remembers a podman volume to remove at cleanup. */
  track(volume: string): string {
    this.volumes.add(volume);
    return volume;
  }

  /** Runs mino as this sandbox's user. */
  mino(args: string[], timeoutMs = 120_000): Promise<MinoResult> {
    return runMino(args, { as: this.as, env: this.env, timeoutMs });
  }

  /** Starts mino in the background as this sandbox's user (for checks while a session runs); resolves on exit. */
  spawn(args: string[], cwd = '/tmp'): { child: ReturnType<typeof spawn>; done: Promise<MinoResult> } {
    const prefix = this.as === 'rootless' ? rootlessPrefix() : [];
    const extra = Object.entries({ NO_COLOR: '1', ...this.env }).map(([k, v]) => `${k}=${v}`);
    const argv = prefix.length
      ? [...prefix, ...extra, process.execPath, minoBinFor(this.as), ...args]
      : [process.execPath, MINO_BIN, ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env: prefix.length ? process.env : { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<MinoResult>((resolve) =>
      child.on('exit', (code, signal) => resolve({ stdout, stderr, exitCode: code ?? (signal ? 137 : 1) })),
    );
    return { child, done };
  }

  /** Removes this sandbox's containers (by state key), tracked volumes and directories. */
  cleanup(): void {
    const stateDir = join(this.env.XDG_STATE_HOME as string, 'mino');
    const key = stateKeyOf(stateDir);
    const ids = podmanAs(this.as, ['ps', '-aq', '--filter', `label=io.mino.state=${key}`])
      .stdout.split('\n')
      .filter(Boolean);
    if (ids.length > 0) podmanAs(this.as, ['rm', '-f', ...ids]);
    if (this.volumes.size > 0) podmanAs(this.as, ['volume', 'rm', '-f', ...this.volumes]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A temporary build context readable by every user (the rootless test user builds from it too). */
export function buildContext(prefix = 'mino-test-image-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Builds `tag` for `as` from `dir` with a Containerfile of `lines` (plus the io.mino.test label,
 * so the global teardown removes the image), then removes `dir`. Returns `tag`.
 */
export function buildTestImage(as: RunAs, dir: string, tag: string, lines: readonly string[]): string {
  try {
    writeFileSync(join(dir, 'Containerfile'), [...lines, `LABEL ${TEST_LABEL}=${TEST_RUN}`, ''].join('\n'), {
      mode: 0o644,
    });
    const r = podmanAs(as, ['build', '-q', '--pull=never', '--network', 'none', '-t', tag, dir]);
    if (r.status !== 0) throw new Error(`podman build failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

/**
 * Builds, for `as`, a test image named like a mino composed image (so mino treats it as one: home
 * volume, uid 1000) from the busybox test image: `developer` (uid 1000) owns /home/developer and
 * is the image user, as in mino-base. With `entrypoint`, it also gets mino-base's own entrypoint
 * (layers/base/mino-entrypoint, with a silent stand-in for mino-bootstrap), so it behaves like
 * mino-base when a command is started. `tag` names it otherwise (not a mino image name: mino
 * inspects it for its user), `user` sets its USER.
 */
export function buildMinoLikeImage(
  as: RunAs,
  options: { entrypoint?: boolean; user?: string; tag?: string } = {},
): string {
  const dir = buildContext();
  const lines = [
    `FROM ${TEST_IMAGE}`,
    'RUN echo image-home > /home/developer/.from-image && chown -R 1000:1000 /home/developer',
  ];
  if (options.entrypoint) {
    copyFileSync(join(REPO_ROOT, 'layers', 'base', 'mino-entrypoint'), join(dir, 'mino-entrypoint'));
    writeFileSync(join(dir, 'mino-bootstrap'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    lines.push(
      'COPY mino-entrypoint mino-bootstrap /usr/local/bin/',
      'RUN chmod 0755 /usr/local/bin/mino-entrypoint /usr/local/bin/mino-bootstrap',
      'ENTRYPOINT ["/usr/local/bin/mino-entrypoint"]',
    );
  }
  lines.push(`USER ${options.user ?? '1000'}`);
  return buildTestImage(as, dir, options.tag ?? `localhost/mino-composed-7e57${hex(8)}:latest`, lines);
}
