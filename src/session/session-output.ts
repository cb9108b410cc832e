import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { errnoCode } from '../common/errno.js';
import { validateSessionName } from './session-name.js';

/**
 * The saved output of a finished detached session. Its container is removed once its exit code is
 * recorded (reconciliation, `mino list`), and its output would go with it; it is saved first, so
 * `mino logs` still shows it, until `mino stop` or a new session of the same name. Files
 * `<state>/output/<name>.out` and `.err` (0600 in a 0700 directory), at most
 * {@link MAX_SAVED_BYTES} each (the end is kept).
 */

/** The most of each stream that is kept. */
export const MAX_SAVED_BYTES = 8 * 1024 * 1024;

/** A session's saved stdout and stderr. */
export interface SavedOutput {
  stdout: string;
  stderr: string;
}

/** Saved output of the sessions of one state directory. */
export class SessionOutputStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'output');
  }

  private path(name: string, stream: 'out' | 'err'): string {
    return join(this.dir, `${validateSessionName(name)}.${stream}`);
  }

  /** Saves (replaces) the output of session `name`. */
  save(name: string, output: SavedOutput): void {
    for (const [stream, text] of [
      ['out', output.stdout],
      ['err', output.stderr],
    ] as const) {
      const bytes = Buffer.from(text);
      writeFileAtomic(
        this.path(name, stream),
        bytes.length > MAX_SAVED_BYTES ? bytes.subarray(bytes.length - MAX_SAVED_BYTES) : bytes,
        { mode: 0o600, mkdirMode: 0o700 },
      );
    }
  }

  /** The saved output of `name`, or undefined when none was saved. */
  read(name: string): SavedOutput | undefined {
    try {
      return {
        stdout: readFileSync(this.path(name, 'out'), 'utf8'),
        stderr: readFileSync(this.path(name, 'err'), 'utf8'),
      };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Forgets the saved output of `name` (nothing saved is fine). */
  remove(name: string): void {
    for (const stream of ['out', 'err'] as const) rmSync(this.path(name, stream), { force: true });
  }
}

/** The last `lines` lines of `text` (0 = all), keeping a final newline. */
export function lastLinesOf(text: string, lines: number): string {
  if (lines <= 0 || text === '') return text;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const parts = body.split('\n');
  return parts.length <= lines ? text : `${parts.slice(-lines).join('\n')}${text.endsWith('\n') ? '\n' : ''}`;
}
