/**
 * Starts a program in the background, detached from this process (own process group, no stdio,
 * not waited for), so this process can exit at once while it works on. argv only, never a shell.
 * child_process is loaded on the first call (not at start-up, and never into the start-up
 * snapshot of the single executable).
 */
export function spawnDetached(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('spawnDetached: empty argv');
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(program, args, { detached: true, stdio: 'ignore', env });
  child.on('error', () => undefined); // a failed start only loses this background chore
  child.unref();
}

/**
 * The argv that starts this mino again: the single executable alone, or Node with the script
 * (bin/mino) and Node's own flags.
 */
export function selfArgv(): string[] {
  if (process.getBuiltinModule('node:sea').isSea()) return [process.execPath];
  const script = process.argv[1];
  return script === undefined ? [process.execPath] : [process.execPath, ...process.execArgv, script];
}
