/**
 * The argv that starts this same mino again: the single executable alone, or Node with the script
 * (bin/mino). Never `node -e`: dist/mino is a single executable application.
 */
export function selfArgv(): string[] {
  let sea = false;
  try {
    sea = process.getBuiltinModule('node:sea').isSea();
  } catch {
    sea = false;
  }
  const script = process.argv[1];
  return sea || script === undefined ? [process.execPath] : [process.execPath, script];
}
