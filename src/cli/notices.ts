/**
 * mino's own informational messages on stderr (progress, "Session x stopped", hints on what to
 * do next), silenced by `-q/--quiet`. Errors and warnings never go through here: they always show.
 */

let quiet = false;

/** Turns quiet mode on or off (from `-q/--quiet`). */
export function setQuiet(on: boolean): void {
  quiet = on;
}

/** True when informational messages are silenced. */
export function isQuiet(): boolean {
  return quiet;
}

/** Writes one informational line to stderr unless quiet. */
export function notice(line: string): void {
  if (!quiet) process.stderr.write(`${line}\n`);
}

/** Writes a line to stderr unless quiet, except warnings (`Warning: …`), which always show. */
export function noticeOrWarning(line: string): void {
  if (!quiet || line.startsWith('Warning:')) process.stderr.write(`${line}\n`);
}
