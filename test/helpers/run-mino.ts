import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, ROOTLESS_USER, minoArgv, rootlessPrefix, uidOf, type Cli } from './test-env.js';

/** Result of one mino invocation. */
export interface MinoResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Who runs mino: this process's user, root, or the rootless test user. */
export type RunAs = 'self' | 'rootless';

/** Options of {@link runMino}. */
export interface RunMinoOptions {
  as?: RunAs;
  /** bin/mino (default) or the single executable dist/mino. */
  cli?: Cli;
  /** Extra environment (merged over the isolated XDG directories). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

let rootlessStore: string | undefined;

/**
 * storage.conf text that keeps rootless podman on its usual storage: rootless podman keeps
 * images under $XDG_DATA_HOME, which the tests point elsewhere to isolate mino's own files.
 */
function rootlessStorageConf(as: RunAs): string {
  if (rootlessStore === undefined) {
    const prefix = as === 'rootless' ? rootlessPrefix() : [];
    const argv = [
      ...prefix,
      'podman',
      'info',
      '--format',
      '{{.Store.GraphRoot}}|{{.Store.RunRoot}}|{{.Store.GraphDriverName}}',
    ];
    const out = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }).stdout.trim();
    const [graphroot, runroot, driver] = out.split('|');
    // Rootless podman reads rootless_storage_path, not graphroot.
    rootlessStore = `[storage]\ndriver = "${driver}"\ngraphroot = "${graphroot}"\nrootless_storage_path = "${graphroot}"\nrunroot = "${runroot}"\n`;
  }
  return rootlessStore;
}

/**
 * Temporary XDG config/state/data directories for one test, owned by the user mino runs as.
 * For rootless runs it also returns CONTAINERS_STORAGE_CONF, so podman keeps using the user's
 * normal image storage.
 */
export function isolatedXdg(as: RunAs = 'self'): {
  XDG_CONFIG_HOME: string;
  XDG_STATE_HOME: string;
  XDG_DATA_HOME: string;
  root: string;
  podmanEnv: Record<string, string>;
} {
  const root = mkdtempSync(join(tmpdir(), 'mino-test-xdg-'));
  chmodSync(root, 0o755);
  const dirs = {
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_DATA_HOME: join(root, 'data'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d);
  const podmanEnv: Record<string, string> = {};
  if (as === 'rootless' || !IS_ROOT) {
    const conf = join(root, 'storage.conf');
    writeFileSync(conf, rootlessStorageConf(as), { mode: 0o644 });
    podmanEnv.CONTAINERS_STORAGE_CONF = conf;
  }
  if (as === 'rootless' && IS_ROOT) {
    const uid = uidOf(ROOTLESS_USER)!;
    for (const d of [root, ...Object.values(dirs)]) chownSync(d, uid, uid);
  }
  return { ...dirs, root, podmanEnv };
}

/** Runs the built mino CLI (no TTY, no stdin unless `input`) and captures its output. */
export function runMino(args: string[], options: RunMinoOptions = {}): Promise<MinoResult> {
  const as = options.as ?? 'self';
  const prefix = as === 'rootless' ? rootlessPrefix() : [];
  // `env -i` in the rootless prefix drops our environment: pass the extra variables through it.
  const passed = { NO_COLOR: '1', ...(process.env.CI ? { CI: process.env.CI } : {}), ...options.env };
  const extra = Object.entries(passed)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  const argv =
    prefix.length > 0
      ? [...prefix, ...extra, ...minoArgv(as, options.cli), ...args]
      : [...minoArgv(as, options.cli), ...args];
  const env = prefix.length > 0 ? process.env : { ...process.env, ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd ?? (as === 'rootless' ? '/tmp' : undefined),
      env: { ...env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, exitCode: code ?? (signal ? 128 + 9 : 1) });
    });
    child.stdin.end(options.input ?? '');
  });
}
