import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { descendantsOf } from './processes.js';
import type { Sandbox } from './sandbox.js';
import { minoArgv, rootlessPrefix } from './test-env.js';

/** argv that runs mino as the sandbox's user with its environment (for tests that signal mino or give it a terminal). */
export function runMinoArgv(sandbox: Sandbox, args: string[]): string[] {
  const env = Object.entries({ NO_COLOR: '1', ...sandbox.env }).map(([k, v]) => `${k}=${String(v)}`);
  if (sandbox.as === 'rootless') {
    const prefix = rootlessPrefix();
    if (prefix.length > 0) return [...prefix, ...env, ...minoArgv('rootless'), ...args];
  }
  return ['env', ...env, ...minoArgv('self'), ...args];
}

/** Quotes one word for the shell line util-linux `script` runs. */
const shq = (s: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** mino on a pseudo-terminal (util-linux `script`), with its input written by the test. */
export interface OnTerminal {
  child: ChildProcessWithoutNullStreams;
  /** Everything the terminal showed so far. */
  output(): string;
  /** script's exit code (the command's, with -e). */
  exited: Promise<number>;
  /**
   * Resizes the terminal as a window manager would: the kernel sends SIGWINCH to the terminal's
   * foreground processes (mino and its podman client).
   */
  resize(rows: number, cols: number): void;
}

/** perl (perl-base, on every Debian): sets a terminal's rows and columns in one ioctl (TIOCSWINSZ). */
const SET_WINDOW_SIZE =
  'open(my $t, "+<", $ARGV[0]) or die "$!\\n"; ioctl($t, 0x5414, pack("S4", $ARGV[1], $ARGV[2], 0, 0)) or die "$!\\n";';

/**
 * Starts mino with `args` on a new pseudo-terminal of `size` (script's own terminal is 0×0 when
 * the test has none, which no real terminal is).
 */
export function onTerminal(
  sandbox: Sandbox,
  args: string[],
  size: { rows: number; cols: number } = { rows: 24, cols: 80 },
): OnTerminal {
  return onPty(runMinoArgv(sandbox, args), size);
}

/**
 * Starts `argv` on a new pseudo-terminal of `size`; `null` leaves it as script makes it (0×0 when
 * the test has no terminal), for tests of what a program does before its terminal has a size.
 */
export function onPty(argv: string[], size: { rows: number; cols: number } | null): OnTerminal {
  const run = `exec ${argv.map(shq).join(' ')}`;
  const line = size === null ? run : `stty rows ${size.rows} cols ${size.cols} && ${run}`;
  const child = spawn('script', ['-qefc', line, '/dev/null'], { cwd: '/tmp', stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const resize = (rows: number, cols: number): void => {
    const pts = descendantsOf(child.pid!)
      .map((p) => {
        try {
          return readlinkSync(`/proc/${p}/fd/0`);
        } catch {
          return '';
        }
      })
      .find((l) => l.startsWith('/dev/pts/'));
    if (!pts) throw new Error('the terminal of the test is gone');
    // One TIOCSWINSZ for both: `stty rows R cols C` sets them one after the other, and a program
    // that acts on the first SIGWINCH then sees the new rows with the old columns.
    const r = spawnSync('perl', ['-e', SET_WINDOW_SIZE, pts, String(rows), String(cols)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`setting the size of ${pts}: ${r.stderr}`);
  };
  return { child, output: () => output, exited, resize };
}
