import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { MinoError } from '../common/errors.js';

/**
 * File access on the podman host through `runtime.hostExec`, so the same code edits files on
 * this machine and inside an OrbStack VM.
 */

/** Reads a file on the podman host; '' when it does not exist. */
export async function readHostFile(runtime: ContainerRuntime, path: string): Promise<string> {
  const result = await runtime.hostExec(['cat', '--', path]);
  if (result.exitCode === 0) return result.stdout;
  if (/no such file/i.test(result.stderr)) return '';
  throw new MinoError(`Cannot read ${path}: ${result.stderr.trim()}`);
}

/**
 * Writes a file on the podman host atomically (temporary sibling, then rename), creating the
 * directory when missing. The content travels on stdin, never in argv.
 */
export async function writeHostFile(runtime: ContainerRuntime, path: string, content: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const tmp = `${path}.mino-${process.pid}.tmp`;
  const steps: Array<[string[], string | undefined]> = [
    [['mkdir', '-p', '--', dir], undefined],
    [['tee', '--', tmp], content],
    [['mv', '-f', '--', tmp, path], undefined],
  ];
  for (const [argv, input] of steps) {
    const result = await runtime.hostExec(argv, input);
    if (result.exitCode !== 0) {
      await runtime.hostExec(['rm', '-f', '--', tmp]);
      throw new MinoError(`Cannot write ${path}: ${result.stderr.trim()}`, {
        hint: `Check that you may write ${dir}`,
      });
    }
  }
}

/** Reads an environment variable of the podman host's user session. */
export async function hostEnv(runtime: ContainerRuntime, name: string): Promise<string | undefined> {
  const result = await runtime.hostExec(['printenv', name]);
  const value = result.stdout.trim();
  return result.exitCode === 0 && value !== '' ? value : undefined;
}

/** The numeric uid of the podman host's user. */
export async function hostUid(runtime: ContainerRuntime): Promise<number> {
  const result = await runtime.hostExec(['id', '-u']);
  const uid = Number.parseInt(result.stdout.trim(), 10);
  if (result.exitCode !== 0 || Number.isNaN(uid)) throw new MinoError('Cannot determine the user on the podman host');
  return uid;
}
