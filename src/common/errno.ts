/** The `code` of a Node system error (`ENOENT`, `EEXIST`, …), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` is a system error with one of `codes`. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoCode(err);
  return code !== undefined && codes.includes(code);
}

/**
 * `err` with `path` set when it is a system error without one (a write(2) or fsync(2) on a
 * descriptor names no file), or always with `replace` (a temporary file stands for `path`), so
 * the error the user reads names the file meant; returns `err` itself.
 */
export function withPath(err: unknown, path: string, replace = false): unknown {
  if (errnoCode(err) !== undefined && (replace || typeof (err as NodeJS.ErrnoException).path !== 'string'))
    (err as NodeJS.ErrnoException).path = path;
  return err;
}
