import { MinoError } from '../common/errors.js';
import type { Host } from '../host/host.js';

/**
 * File access on the podman host through its {@link Host}, so the same code edits files on
 * this machine and inside an OrbStack VM.
 */

/** Reads a file on the podman host; '' when it does not exist. */
export async function readHostFile(host: Host, path: string): Promise<string> {
  const result = await host.run(['cat', '--', path]);
  if (result.exitCode === 0) return result.stdout;
  if (/no such file/i.test(result.stderr)) return '';
  throw new MinoError(`Cannot read ${path}: ${result.stderr.trim()}`);
}

/**
 * Writes a file on the podman host atomically (temporary sibling, then rename), creating the
 * directory when missing. The content travels on stdin, never in argv.
 */
export async function writeHostFile(host: Host, path: string, content: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const tmp = `${path}.mino-${process.pid}.tmp`;
  const steps: Array<[string[], string | undefined]> = [
    [['mkdir', '-p', '--', dir], undefined],
    [['tee', '--', tmp], content],
    [['mv', '-f', '--', tmp, path], undefined],
  ];
  for (const [argv, input] of steps) {
    const result = await host.run(argv, { input });
    if (result.exitCode !== 0) {
      await host.run(['rm', '-f', '--', tmp]);
      throw new MinoError(`Cannot write ${path}: ${result.stderr.trim()}`, {
        hint: `Check that you may write ${dir}`,
      });
    }
  }
}

/** Reads an environment variable of the podman host's user session. */
export async function hostEnv(host: Host, name: string): Promise<string | undefined> {
  const result = await host.run(['printenv', name]);
  const value = result.stdout.trim();
  return result.exitCode === 0 && value !== '' ? value : undefined;
}

/** True when a path exists on the podman host. */
export async function hostPathExists(host: Host, path: string): Promise<boolean> {
  return (await host.run(['test', '-e', path])).exitCode === 0;
}

/** Removes a file on the podman host; a missing file is fine. */
export async function removeHostFile(host: Host, path: string): Promise<void> {
  const result = await host.run(['rm', '-f', '--', path]);
  if (result.exitCode !== 0) throw new MinoError(`Cannot remove ${path}: ${result.stderr.trim()}`);
}

/** The user name of the podman host's user. */
export async function hostUserName(host: Host): Promise<string> {
  const result = await host.run(['id', '-un']);
  const name = result.stdout.trim();
  if (result.exitCode !== 0 || name === '') throw new MinoError('Cannot determine the user name on the podman host');
  return name;
}

/** The numeric uid of the podman host's user. */
export async function hostUid(host: Host): Promise<number> {
  const result = await host.run(['id', '-u']);
  const uid = Number.parseInt(result.stdout.trim(), 10);
  if (result.exitCode !== 0 || Number.isNaN(uid)) throw new MinoError('Cannot determine the user on the podman host');
  return uid;
}
