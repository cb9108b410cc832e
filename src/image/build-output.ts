/**
 * Reading `podman build` output for progress display: `STEP n/m: <instruction>` lines become
 * steps; podman's bookkeeping lines (`--> <id>`, `COMMIT`, `Removing intermediate ...`) are
 * noise; everything else is the build's own output.
 */

/** A build progress event. */
export type BuildEvent =
  /** Podman started step `step` of `total`; `text` is the instruction (`RUN ...`). */
  | { type: 'step'; step: number; total: number; text: string }
  /** A line printed by the build (a RUN command's output, warnings). */
  | { type: 'output'; line: string }
  /** Another mino process is building the same image; this one waits for it. */
  | { type: 'waiting' };

/** Classifies one line of build output; undefined for podman's bookkeeping lines. */
export function parseBuildLine(line: string): BuildEvent | undefined {
  const step = /^STEP (\d+)\/(\d+): ?(.*)$/.exec(line);
  if (step) return { type: 'step', step: Number(step[1]), total: Number(step[2]), text: step[3] ?? '' };
  if (/^(?:-->|--->|COMMIT\b|Removing intermediate|Successfully tagged )/.test(line)) return undefined;
  if (/^[a-f0-9]{64}$/.test(line)) return undefined; // the final image ID
  return { type: 'output', line };
}

/** Keeps the last `size` lines of output for an error message. */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(private readonly size = 50) {}

  /** Records a line. */
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  /** The kept lines, oldest first. */
  text(): string {
    return this.lines.join('\n');
  }
}
