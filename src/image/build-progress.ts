/**
 * Progress of an image build on a stream (stderr): podman's `STEP n/m` lines always, and on a
 * terminal also the latest output line, rewritten in place, so a long RUN step shows life.
 */

/** Receives build output lines; `end()` clears the live line. */
export interface BuildProgress {
  line(text: string): void;
  end(): void;
}

const STEP = /^STEP (\d+)\/(\d+):/;

/** True for the `STEP n/m: ...` lines podman prints per Containerfile instruction. */
export function isStepLine(line: string): boolean {
  return STEP.test(line);
}

/** A progress printer for `stream`. */
export function buildProgress(stream: NodeJS.WriteStream, prefix = '  '): BuildProgress {
  const tty = Boolean(stream.isTTY);
  const width = Math.max(20, (stream.columns ?? 80) - prefix.length - 1);
  let live = false;
  const clear = (): void => {
    if (live) stream.write('\r\u001b[2K');
    live = false;
  };
  return {
    line(text) {
      const clean = text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/[\r\t]/g, ' ');
      if (isStepLine(clean)) {
        clear();
        stream.write(`${prefix}${clean.slice(0, 160)}\n`);
      } else if (tty && clean.trim() !== '') {
        clear();
        stream.write(`${prefix}${clean.slice(0, width)}`);
        live = true;
      }
    },
    end: clear,
  };
}
