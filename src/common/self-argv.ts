/**
 * The argv that starts this mino again (for the processes it starts in the background: the egress
 * proxy, the pool refill, the timeout sweep): the single executable alone, or Node with its own
 * flags and the script (bin/mino). Never `node -e`: dist/mino is a single executable application.
 */
export function selfArgv(): string[] {
  if (process.getBuiltinModule('node:sea').isSea()) return [process.execPath];
  const script = process.argv[1];
  return script === undefined ? [process.execPath] : [process.execPath, ...process.execArgv, script];
}
