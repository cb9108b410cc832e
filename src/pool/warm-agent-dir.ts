import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../common/logger.js';
import { WARM_NAME_PREFIX } from '../session/session-labels.js';
import { poolRoot } from './pool-index.js';
import { WARM_AGENT_SCRIPT } from './warm-agent-script.js';

/**
 * The host directory of one warm container's agent (pool/warm-agent-script.ts):
 * `<state>/pool/agents/<key12>.<random>` (the container name without its prefix), mode 0700,
 * owned by the user running mino, mounted into that container only, at {@link AGENT_MOUNT}. It
 * holds the agent program (`agent.js`) and the agent's socket (`sock`, made by the agent as the
 * container's user, who is this user on the host).
 */

/** Where a warm container sees its agent directory. */
export const AGENT_MOUNT = '/run/mino/agent';

/** The longest socket path connect(2) takes (sun_path is 108 bytes with its NUL), with a margin. */
const MAX_SOCKET_PATH = 100;

function agentsRoot(stateDir: string): string {
  return join(poolRoot(stateDir), 'agents');
}

/** The agent directory of warm container `name`. */
function agentDirOf(stateDir: string, name: string): string {
  return join(agentsRoot(stateDir), name.startsWith(WARM_NAME_PREFIX) ? name.slice(WARM_NAME_PREFIX.length) : name);
}

/** The agent socket of warm container `name` (see launch/warm-agent-client.ts for the checks before use). */
export function agentSocketOf(stateDir: string, name: string): string {
  return join(agentDirOf(stateDir, name), 'sock');
}

/**
 * Creates the agent directory of warm container `name` with the agent program in it; returns it,
 * or undefined when the container must do without an agent (its socket path would be too long
 * for connect(2), or the directory cannot be made: the warm container then keeps today's
 * `podman exec` road).
 */
export function prepareAgentDir(stateDir: string, name: string): string | undefined {
  const dir = agentDirOf(stateDir, name);
  if (join(dir, 'sock').length > MAX_SOCKET_PATH) {
    log.info('no warm agent: its socket path would be too long', { dir });
    return undefined;
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'agent.js'), WARM_AGENT_SCRIPT, { mode: 0o600 });
    return dir;
  } catch (err) {
    log.warn('no warm agent directory', { dir, error: String(err) });
    return undefined;
  }
}

/** Removes the agent directory of warm container `name` (gone already is fine). */
export function removeAgentDir(stateDir: string, name: string): void {
  try {
    rmSync(agentDirOf(stateDir, name), { recursive: true, force: true });
  } catch (err) {
    log.debug('agent directory not removed', { name, error: String(err) });
  }
}

/**
 * Removes the agent directories of containers not in `keep` (warm container names): those of
 * expired, drained or used containers. A run that claimed one keeps its open connection.
 */
export function sweepAgentDirs(stateDir: string, keep: Iterable<string>): void {
  const wanted = new Set([...keep].map((n) => agentDirOf(stateDir, n)));
  let names: string[];
  try {
    names = readdirSync(agentsRoot(stateDir));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(agentsRoot(stateDir), n);
    if (!wanted.has(dir)) rmSync(dir, { recursive: true, force: true });
  }
}
