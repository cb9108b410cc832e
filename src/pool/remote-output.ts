import { createHash, randomBytes, type Hash } from 'node:crypto';
import { log } from '../common/logger.js';
import type { WarmOutput } from '../launch/execute-plan.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { EXEC_WRAPPER_SCRIPT } from './pool-scripts.js';

/**
 * The output of a command run in a warm container on a remote engine, never lost.
 *
 * podman's remote client can lose what a short command printed: `podman --remote exec` comes
 * back with the right exit code and an empty or cut stdout (containers/podman#25855, open
 * upstream; seen here about once in 40 pooled runs under load). So in a claimed remote container
 * the command's stdout and stderr go through `tee` into two files in the container (besides the
 * exec's streams, live as before), and after the command the wrapper prints on each stream a
 * trailer: a marker with a random nonce of this run and the byte count of that stream. mino takes
 * the streams through itself and the trailers off them. When a trailer did not arrive whole, or
 * says more bytes than arrived, mino reads that stream's file with `podman cp` (the engine's
 * archive API: a plain HTTP body, not the exec's attach stream) and writes what is missing.
 * A run whose output arrived costs no podman call more; a lost one, one per stream.
 * Terminal runs keep the plain `podman exec -t` (one stream, a pseudo-terminal, no files).
 */

/**
 * Wraps EXEC_WRAPPER_SCRIPT (`$2`) for a claimed remote container (`sh -c SCRIPT mino NONCE
 * WRAPPER CMD ARG…`): with `tee` and `mkfifo` there and /tmp writable, the command's stdout and
 * stderr go through fifos into `tee`s that write them to the exec's streams and to
 * `/tmp/.mino-out.NONCE/{1,2}`, and a hold file makes the warm main process stay 30 s after the
 * command (not 2 s), so the files can still be read; the trailers follow once both `tee`s ended,
 * and the wrapper exits with the command's code. Otherwise the wrapper runs as before (no
 * trailer: mino then finds no file either).
 */
export const OUTPUT_GUARD_SCRIPT = [
  'n=$1; w=$2; shift 2',
  'd=/tmp/.mino-out.$n',
  'if command -v tee >/dev/null 2>&1 && command -v mkfifo >/dev/null 2>&1 && mkdir -m 755 "$d" 2>/dev/null && mkfifo "$d/o" "$d/e" 2>/dev/null; then',
  '  : > /dev/shm/.mino-pool.hold 2>/dev/null',
  '  tee "$d/1" < "$d/o" 2>/dev/null & a=$!',
  '  tee "$d/2" < "$d/e" >&2 2>/dev/null & b=$!',
  '  /bin/sh -c "$w" mino "$@" > "$d/o" 2> "$d/e"',
  '  r=$?',
  '  wait "$a"; wait "$b"',
  '  set -- $(wc -c < "$d/1" 2>/dev/null); printf \'\\036mino-end %s %s\\036\' "$n" "${1:--}"',
  '  set -- $(wc -c < "$d/2" 2>/dev/null); printf \'\\036mino-end %s %s\\036\' "$n" "${1:--}" >&2',
  '  exit "$r"',
  'fi',
  'exec /bin/sh -c "$w" mino "$@"',
].join('\n');

/** The most of one stream read back from the container (beyond it, a warning says output may be missing). */
const READ_BACK_MAX_BYTES = 64 * 1024 * 1024;

/** Where the streams go (this process's stdout and stderr; tests give their own). */
export interface OutputSinks {
  stdout: { write(chunk: Buffer): unknown };
  stderr: { write(chunk: Buffer): unknown };
}

/** How a stream ended: what arrived, and what its trailer says. */
export interface StreamEnding {
  /** Bytes written on (the trailer taken off). */
  received: number;
  /** The byte count the trailer gave; undefined when no whole trailer arrived. */
  announced: number | undefined;
  /** Bytes held back at the end (the start of a trailer that never completed, or output). */
  held: Buffer;
}

/**
 * One stream of a guarded run: writes what comes on to its sink, except the trailer at its end
 * (bytes that could be the start of the trailer wait for the next chunk).
 */
export class TrailerStream {
  private readonly marker: Buffer;
  private held: Buffer = Buffer.alloc(0);
  private trailer: string | undefined;
  private received = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(
    nonce: string,
    private readonly sink: { write(chunk: Buffer): unknown },
  ) {
    this.marker = Buffer.from(`\x1emino-end ${nonce} `, 'latin1');
  }

  /** Takes the next chunk of the stream. */
  push(chunk: Buffer): void {
    if (this.trailer !== undefined) {
      this.trailer += chunk.toString('latin1');
      return;
    }
    const buf = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      this.emit(buf.subarray(0, at));
      this.held = Buffer.alloc(0);
      this.trailer = buf.subarray(at + this.marker.length).toString('latin1');
      return;
    }
    const keep = this.partialMarkerAtEnd(buf);
    this.emit(buf.subarray(0, buf.length - keep));
    this.held = Buffer.from(buf.subarray(buf.length - keep));
  }

  /** The stream's end (after the exec ended). */
  ending(): StreamEnding {
    const m = this.trailer === undefined ? null : /^(\d+)\x1e$/.exec(this.trailer);
    return { received: this.received, announced: m ? Number(m[1]) : undefined, held: this.held };
  }

  /** Whether `file` (the stream's copy) starts with exactly what was written on. */
  startsWithReceived(file: Buffer): boolean {
    if (file.length < this.received) return false;
    return (
      createHash('sha256').update(file.subarray(0, this.received)).digest('hex') === this.hash.copy().digest('hex')
    );
  }

  /** Writes `chunk` to the sink (counted: it arrived). */
  emit(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.received += chunk.length;
    this.hash.update(chunk);
    this.sink.write(chunk);
  }

  /** Length of the longest end of `buf` that is the start of the marker. */
  private partialMarkerAtEnd(buf: Buffer): number {
    for (let k = Math.min(buf.length, this.marker.length - 1); k > 0; k--) {
      if (buf.subarray(buf.length - k).equals(this.marker.subarray(0, k))) return k;
    }
    return 0;
  }
}

/** The output of one claimed remote run (see the module comment): the executor's WarmOutput. */
export class GuardedOutput implements WarmOutput {
  readonly nonce = randomBytes(8).toString('hex');
  private readonly out: TrailerStream;
  private readonly err: TrailerStream;

  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'readContainerFile'>,
    private readonly container: string,
    private readonly sinks: OutputSinks = process,
  ) {
    this.out = new TrailerStream(this.nonce, sinks.stdout);
    this.err = new TrailerStream(this.nonce, sinks.stderr);
  }

  /** The argv the command is appended to (OUTPUT_GUARD_SCRIPT around EXEC_WRAPPER_SCRIPT). */
  get wrapper(): string[] {
    return ['/bin/sh', '-c', OUTPUT_GUARD_SCRIPT, 'mino', this.nonce, EXEC_WRAPPER_SCRIPT];
  }

  readonly stdout = (chunk: Buffer): void => this.out.push(chunk);
  readonly stderr = (chunk: Buffer): void => this.err.push(chunk);

  /** After the exec ended: reads back and writes what did not arrive, stream by stream. */
  async settle(exitCode: number): Promise<void> {
    for (const [index, stream] of [this.out, this.err].entries()) {
      const end = stream.ending();
      // Whole: the trailer came and counts no more than arrived (more: the copy ran out of room).
      if (end.announced !== undefined && end.announced <= end.received) continue;
      // No copy of stdout: none of stderr either (made together), the container or the tee is not there.
      if (!(await this.readBack(stream, end, index + 1, exitCode))) {
        if (index === 0) this.err.emit(this.err.ending().held);
        return;
      }
    }
  }

  /** Writes what is missing of one stream from its copy; false when there is no copy. */
  private async readBack(stream: TrailerStream, end: StreamEnding, fd: number, exitCode: number): Promise<boolean> {
    const path = `/tmp/.mino-out.${this.nonce}/${fd}`;
    const file = await this.runtime
      .readContainerFile(this.container, path, READ_BACK_MAX_BYTES)
      .catch((err: unknown) => {
        log.warn('could not read back the output of the command', { path, error: String(err) });
        return undefined;
      });
    if (file === undefined) {
      // No copy (an image without tee, or the container gone): what arrived is all there is.
      log.info('no copy of the output to check it against', { fd, exitCode, received: end.received });
      stream.emit(end.held);
      return false;
    }
    if (stream.startsWithReceived(file)) {
      const missing = file.length - end.received;
      if (missing > 0) log.info('the engine lost output of the command; written from its copy', { fd, missing });
      stream.emit(file.subarray(end.received));
      return true;
    }
    // Lost before what arrived (never seen): the whole copy follows a note, nothing is dropped.
    log.warn('the engine lost output of the command out of order; writing all of it again', { fd });
    this.sinks.stderr.write(
      Buffer.from(
        `mino: the engine lost part of the command's ${fd === 1 ? 'stdout' : 'stderr'} (podman remote exec); all of it follows\n`,
      ),
    );
    stream.emit(file);
    return true;
  }
}
