import { lstatSync, statSync } from 'node:fs';
import { MinoError } from '../common/errors.js';

/**
 * SSH agent forwarding (`--ssh-agent`): the host agent's socket is bind-mounted at /ssh-agent and
 * SSH_AUTH_SOCK points there; no key ever enters the sandbox, but while the session runs the
 * agent signs for it. Off by default: mino 1.6 forwarded it always, so every sandbox could push
 * (or log in anywhere the key is accepted) without being asked to.
 */

/** Where the socket appears in the container. */
export const SSH_AGENT_TARGET = '/ssh-agent';

/** The host agent socket to forward: `$SSH_AUTH_SOCK`, checked to exist and be a socket. */
export function agentSocket(env: NodeJS.ProcessEnv): string {
  const path = env.SSH_AUTH_SOCK;
  if (!path) {
    throw new MinoError('--ssh-agent: SSH_AUTH_SOCK is not set, so there is no SSH agent to forward', {
      hint: 'Start an agent and add your key (eval "$(ssh-agent)"; ssh-add), or run without --ssh-agent',
    });
  }
  if (!path.startsWith('/') || /[:,\n]/.test(path)) {
    throw new MinoError(
      `--ssh-agent: SSH_AUTH_SOCK (${JSON.stringify(path)}) is not an absolute path podman can mount`,
    );
  }
  let isSocket = false;
  try {
    isSocket = statSync(path).isSocket();
  } catch {
    const dangling = (() => {
      try {
        return lstatSync(path).isSymbolicLink();
      } catch {
        return false;
      }
    })();
    throw new MinoError(
      `--ssh-agent: the SSH agent socket ${path} does not exist${dangling ? ' (a dangling link)' : ''}`,
      {
        hint: 'The agent may have stopped: start one (eval "$(ssh-agent)"; ssh-add) or run without --ssh-agent',
      },
    );
  }
  if (!isSocket) throw new MinoError(`--ssh-agent: ${path} (SSH_AUTH_SOCK) is not a socket`);
  return path;
}
