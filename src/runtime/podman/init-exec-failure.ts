/**
 * podman's `--init` (catatonit) runs the command as its child. When the command cannot be executed
 * catatonit prints one line, `ERROR (catatonit:N): failed to exec pid1: <reason>`, and exits 1, so
 * a cold `mino run -- no-such-tool` of an image without mino's entrypoint ended with 1 where a
 * shell, mino's entrypoint and a pooled run say 127 (not found) or 126 (not executable). That
 * line can only be the first thing on the container's stderr (the command never ran): this
 * scanner looks at the first line only, holding back no more than the line's fixed prefix, and
 * passes everything else through at once.
 */

const PREFIX = Buffer.from('ERROR (catatonit:');
const LINE = /^ERROR \(catatonit:\d+\): failed to exec pid1: ([^\n]*)\n/;
/** More than any such line: give up holding back. */
const MAX_LINE = 4096;

/** Watches a container's stderr for catatonit's exec failure; see the module comment. */
export class InitExecFailureScanner {
  private held: Buffer = Buffer.alloc(0);
  private decided = false;
  /** The reason catatonit gave (`No such file or directory`, `Permission denied`, …), once seen. */
  reason: string | undefined;

  constructor(private readonly write: (chunk: Buffer) => void) {}

  /** Takes the next chunk of stderr. */
  push(chunk: Buffer): void {
    if (this.decided) {
      this.write(chunk);
      return;
    }
    this.held = Buffer.concat([this.held, chunk]);
    const n = Math.min(this.held.length, PREFIX.length);
    if (!this.held.subarray(0, n).equals(PREFIX.subarray(0, n))) {
      this.release();
      return;
    }
    const newline = this.held.indexOf(0x0a);
    if (newline < 0) {
      if (this.held.length > MAX_LINE) this.release();
      return;
    }
    const m = LINE.exec(this.held.subarray(0, newline + 1).toString('utf8'));
    if (m) {
      this.reason = m[1];
      this.held = this.held.subarray(newline + 1);
    }
    this.release();
  }

  /** The stream ended: hands on whatever is held back. */
  end(): void {
    if (!this.decided) this.release();
  }

  private release(): void {
    this.decided = true;
    if (this.held.length > 0) this.write(this.held);
    this.held = Buffer.alloc(0);
  }
}

/**
 * The exit code and message for a command catatonit could not execute (`reason` from
 * {@link InitExecFailureScanner}): 127 with "command not found" for a missing file, 126 with "not
 * executable" for anything else (permission denied, a directory, a bad format), as mino's
 * entrypoint and the pool's exec wrapper say.
 */
export function initExecFailure(command: string, reason: string): { exitCode: number; message: string } {
  if (/no such file/i.test(reason)) {
    const hint = command.includes('/')
      ? `check the path; mino run -- ls -l ${command.slice(0, command.lastIndexOf('/') + 1)} shows what is there`
      : "check its name and the image's PATH; install it with a layer (mino layers list)";
    return { exitCode: 127, message: `Error: command not found in the image: ${command}\nHint: ${hint}\n` };
  }
  return {
    exitCode: 126,
    message: `Error: command is not executable in the image: ${command}\nHint: it is a directory or lacks the execute permission (${reason})\n`,
  };
}
