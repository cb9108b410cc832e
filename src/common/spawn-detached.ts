import { argvHead, trace } from './trace.js';

/**
 * Starts a program that outlives this process: its own process group, no stdio, not waited for
 * (mino's background timeout sweep and pool refill), so this process can exit at once while it
 * works on. argv only, never a shell. Returns its PID, or undefined when it could not be started
 * (a failed start only loses that background chore). child_process is loaded on the first call
 * (not at start-up, and never into the start-up snapshot of the single executable).
 */
export function spawnDetached(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number | undefined {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('spawnDetached: empty argv');
  const { spawn } = process.getBuiltinModule('node:child_process');
  trace('spawn detached', argvHead(argv));
  try {
    const child = spawn(program, args, { detached: true, stdio: 'ignore', env });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}
