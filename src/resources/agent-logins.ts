import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MinoError, UsageError } from '../common/errors.js';
import { AGENT_LOGIN_FILES, loginsVolumeName } from '../credentials/agent-logins.js';
import { InUseError } from '../runtime/runtime-errors.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * `mino login`: which agent logins the sessions share (credentials/agent-logins.ts), and
 * forgetting them (`--reset`).
 */

/** One agent's shared login. */
interface AgentLogin {
  agent: string;
  /** A login file is stored. */
  stored: boolean;
}

/** What `mino login` shows. */
export interface LoginStatus {
  volume: string;
  exists: boolean;
  createdAt: string | undefined;
  agents: AgentLogin[];
}

/** The agents mino shares logins of. */
function knownAgents(): string[] {
  return Object.keys(AGENT_LOGIN_FILES);
}

/** Reads which agents have a stored login (one podman call, one `find` on the podman host). */
export async function loginStatus(ctx: SessionContext): Promise<LoginStatus> {
  const volume = loginsVolumeName(ctx.stateKey);
  const info = await ctx.runtime.volumeInspect(volume);
  const agents = knownAgents().map((agent) => ({ agent, stored: false }));
  if (!info) return { volume, exists: false, createdAt: undefined, agents };
  if (info.mountpoint) {
    const result = await ctx.runtime.unshare([
      'find',
      info.mountpoint,
      '-mindepth',
      '2',
      '-maxdepth',
      '2',
      '-type',
      'f',
    ]);
    const files = new Set(result.stdout.split('\n').map((l: string) => l.slice(info.mountpoint!.length + 1)));
    for (const a of agents) a.stored = files.has(AGENT_LOGIN_FILES[a.agent]!);
  }
  return { volume, exists: true, createdAt: info.labels['io.mino.logins.created_at'] ?? info.createdAt, agents };
}

/**
 * Forgets shared logins: of the named agents (their directory in the volume is removed, also while
 * a session uses it), or all of them (the volume is removed; refused while a session uses it).
 * Returns the agents whose login was stored.
 */
export async function resetLogins(ctx: SessionContext, agents: readonly string[]): Promise<string[]> {
  for (const a of agents) {
    if (!knownAgents().includes(a)) throw new UsageError(`Unknown agent '${a}'`, `Agents: ${knownAgents().join(', ')}`);
  }
  const status = await loginStatus(ctx);
  const stored = status.agents
    .filter((a) => a.stored && (agents.length === 0 || agents.includes(a.agent)))
    .map((a) => a.agent);
  if (!status.exists) {
    forgetLoginsVolume(ctx);
    return [];
  }
  if (agents.length === 0) {
    try {
      await ctx.runtime.volumeRemove(status.volume, { force: false });
    } catch (err) {
      if (err instanceof InUseError) {
        throw new MinoError('The shared agent logins are in use by a running session', {
          hint: "Stop the sessions first (mino list; mino stop NAME), or forget one agent's login while they run: mino login --reset claude",
        });
      }
      throw err;
    }
    forgetLoginsVolume(ctx);
  } else {
    const info = await ctx.runtime.volumeInspect(status.volume);
    if (!info?.mountpoint) throw new MinoError(`Cannot find where volume ${status.volume} keeps its files`);
    for (const agent of agents) {
      const result = await ctx.runtime.unshare(['rm', '-rf', '--', `${info.mountpoint}/${agent}`]);
      if (result.exitCode !== 0) {
        throw new MinoError(`Could not forget the ${agent} login: ${result.stderr.trim()}`, {
          hint: 'Forget all logins instead: mino login --reset',
        });
      }
    }
  }
  ctx.audit.record('logins.reset', { agents: agents.length === 0 ? knownAgents() : [...agents] });
  return stored;
}

/** Forgets that the logins volume exists (after removing it). */
function forgetLoginsVolume(ctx: SessionContext): void {
  try {
    unlinkSync(join(ctx.stateDir, 'logins-volume'));
  } catch {
    // none
  }
}
