import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, MINO_BIN, ROOTLESS_USER, rootlessPrefix, uidOf } from './test-env.js';

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
  /** Extra environment (merged over the isolated XDG directories). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/**
 * Temporary XDG config/state/data directories for one test, owned by the user mino runs as.
 */
export function isolatedXdg(as: RunAs = 'self'): { XDG_CONFIG_HOME: string; XDG_STATE_HOME: string; XDG_DATA_HOME: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'mino-test-xdg-'));
  chmodSync(root, 0o755);
  const dirs = { XDG_CONFIG_HOME: join(root, 'config'), XDG_STATE_HOME: join(root, 'state'), XDG_DATA_HOME: join(root, 'data') };
  for (const d of Object.values(dirs)) mkdirSync(d);
  if (as === 'rootless' && IS_ROOT) {
    const uid = uidOf(ROOTLESS_USER)!;
    for (const d of [root, ...Object.values(dirs)]) chownSync(d, uid, uid);
  }
  return { ...dirs, root };
}

/** Runs the built mino CLI (no TTY, no stdin unless `input`) and captures its output. */
export function runMino(args: string[], options: RunMinoOptions = {}): Promise<MinoResult> {
  const as = options.as ?? 'self';
  const prefix = as === 'rootless' ? rootlessPrefix() : [];
  // `env -i` in the rootless prefix drops our environment: pass the extra variables through it.
  const passed = { NO_COLOR: '1', ...(process.env.CI ? { CI: process.env.CI } : {}), ...options.env };
  const extra = Object.entries(passed).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const argv = prefix.length > 0
    ? [...prefix, ...extra, process.execPath, MINO_BIN, ...args]
    : [process.execPath, MINO_BIN, ...args];
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
