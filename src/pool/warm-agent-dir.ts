import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
 * container's user, who is this user on the host). While a run uses it, `<state>/pool/sessions/<session>`
 * (a symbolic link to it, in a directory no container sees) lets `mino exec SESSION` find it.
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

/**
 * Writes the CA bundle of warm container `name` (pool/warm-tls.ts) into its agent directory
 * (made when there is none: it then holds just this file) and returns the file's path: it goes
 * when the directory goes.
 */
export function writeWarmCaBundle(stateDir: string, name: string, text: string): string {
  const dir = agentDirOf(stateDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'ca-bundle.crt');
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}

/** Removes the agent directory of warm container `name` (gone already is fine). */
export function removeAgentDir(stateDir: string, name: string): void {
  try {
    rmSync(agentDirOf(stateDir, name), { recursive: true, force: true });
  } catch (err) {
    log.debug('agent directory not removed', { name, error: String(err) });
  }
}

function sessionsRoot(stateDir: string): string {
  return join(poolRoot(stateDir), 'sessions');
}

/** Records that session `session` runs in warm container `name` (for `mino exec`); a failure only loses that. */
export function linkSessionAgent(stateDir: string, session: string, name: string): void {
  try {
    mkdirSync(sessionsRoot(stateDir), { recursive: true, mode: 0o700 });
    rmSync(join(sessionsRoot(stateDir), session), { force: true });
    symlinkSync(agentDirOf(stateDir, name), join(sessionsRoot(stateDir), session));
  } catch (err) {
    log.debug('no session link to the warm agent', { session, error: String(err) });
  }
}

/** Forgets the link of {@link linkSessionAgent}. */
export function unlinkSessionAgent(stateDir: string, session: string): void {
  rmSync(join(sessionsRoot(stateDir), session), { force: true });
}

/** The agent socket of the warm container session `session` runs in, if it has one. */
export function sessionAgentSocket(stateDir: string, session: string): string | undefined {
  try {
    return join(readlinkSync(join(sessionsRoot(stateDir), session)), 'sock');
  } catch {
    return undefined;
  }
}

/** Agent directories a session link points to whose agent still has its socket (the others' links go). */
function linkedAgentDirs(stateDir: string): Set<string> {
  const out = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(sessionsRoot(stateDir));
  } catch {
    return out;
  }
  for (const n of names) {
    const link = join(sessionsRoot(stateDir), n);
    try {
      const dir = readlinkSync(link);
      lstatSync(join(dir, 'sock'));
      out.add(dir);
    } catch {
      rmSync(link, { force: true });
    }
  }
  return out;
}

/**
 * Removes the agent directories of containers not in `keep` (warm container names) and not used
 * by a running session: those of expired, drained or used containers.
 */
export function sweepAgentDirs(stateDir: string, keep: Iterable<string>): void {
  const wanted = new Set([...keep].map((n) => agentDirOf(stateDir, n)));
  for (const d of linkedAgentDirs(stateDir)) wanted.add(d);
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
