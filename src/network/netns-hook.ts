/**
 * The OCI hook that gives a session its egress listener before its command starts. Podman runs it
 * (`--hooks-dir`, this session only) at the `createRuntime` stage: the container's network
 * namespace exists (`--network none`: loopback only) and its process has not started. The hook
 * hands the container's PID to the session's proxy through a FIFO and waits for its answer; the
 * proxy opens a listener on 127.0.0.1 inside that namespace and keeps it (nsenter + a one-shot
 * child that passes the listening socket back over IPC). The hook fails the container's creation
 * when the proxy does not answer `ok`, so a session never starts without its proxy, and never
 * with a route out: the only way out is the listener.
 *
 * The hook is a few lines of POSIX sh (no program in the image, nothing mounted into it): it
 * reads the OCI state from stdin, takes `"pid":N` from it, writes N to `attach`, reads the answer
 * from `attached`.
 */

/** The hook script; `$1` is the session's egress directory. */
export const HOOK_SCRIPT = [
  'dir=$1',
  'IFS= read -r state || [ -n "$state" ] || { echo "mino: no container state on stdin" >&2; exit 1; }',
  'pid=${state#*\\"pid\\":}',
  'pid=${pid# }',
  'pid=${pid%%[!0-9]*}',
  '[ -n "$pid" ] || { echo "mino: the container state has no pid" >&2; exit 1; }',
  '[ -p "$dir/attach" ] && [ -p "$dir/attached" ] || { echo "mino: the egress proxy of this session is not prepared ($dir)" >&2; exit 1; }',
  'printf \'%s\\n\' "$pid" > "$dir/attach" || exit 1',
  'reply=',
  'IFS= read -r reply < "$dir/attached" || :',
  '[ "$reply" = ok ] && exit 0',
  'echo "mino: ${reply:-the egress proxy did not answer}" >&2',
  'exit 1',
].join('\n');

/** Seconds podman lets the hook run before it fails the container (a slow proxy start included). */
const HOOK_TIMEOUT_SECONDS = 120;

/** The hook's configuration file (OCI hooks schema 1.0.0) for a session directory. */
export function hookDocument(dir: string): string {
  return `${JSON.stringify(
    {
      version: '1.0.0',
      hook: {
        path: '/bin/sh',
        args: ['sh', '-c', HOOK_SCRIPT, 'mino-egress-hook', dir],
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        timeout: HOOK_TIMEOUT_SECONDS,
      },
      when: { always: true },
      stages: ['createRuntime'],
    },
    null,
    2,
  )}\n`;
}
