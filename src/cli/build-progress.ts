import { parseBuildLine, type BuildEvent } from '../image/build-output.js';

/**
 * Progress of an image build on a stream (stderr): podman's `STEP n/m` lines always, and on a
 * terminal also the latest output line, rewritten in place, so a long RUN step shows life.
 * Podman's bookkeeping lines (`--> id`, `COMMIT`) are never shown.
 */

/** Receives build output; `end()` clears the live line. */
export interface BuildProgress {
  /** A raw line of `podman build` output. */
  line(text: string): void;
  /** An already classified line (see parseBuildLine). */
  event(event: BuildEvent): void;
  end(): void;
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
  const clean = (text: string): string => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/[\r\t]/g, ' ');
  const event = (e: BuildEvent): void => {
    if (e.type === 'step') {
      clear();
      stream.write(`${prefix}${clean(`STEP ${e.step}/${e.total}: ${e.text}`).slice(0, 160)}\n`);
    } else if (e.type === 'output' && tty && clean(e.line).trim() !== '') {
      clear();
      stream.write(`${prefix}${clean(e.line).slice(0, width)}`);
      live = true;
    }
  };
  return {
    line(text) {
      const e = parseBuildLine(clean(text));
      if (e) event(e);
    },
    event,
    end: clear,
  };
}
