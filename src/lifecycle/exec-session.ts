import { log } from '../common/logger.js';
import { trace } from '../common/trace.js';
import type { SessionContext } from '../context/session-context.js';
import { runThroughAgent } from '../launch/warm-agent-client.js';
import { sessionAgentSocket } from '../pool/warm-agent-dir.js';
import type { SessionRecord } from '../session/session-record.js';
import { runningSession } from './find-session.js';

/** How `mino exec` runs its command. */
export interface ExecRequest {
  /** The session (default: the newest running one). */
  name: string | undefined;
  command: string[];
  /** This process has a terminal: the command gets one (`podman exec -t`). */
  tty: boolean;
  /** The command through the session's prelude (its credential variables), for a session that has one. */
  withPrelude: (argv: string[]) => string[];
  /** The context of the engine a session lives on (default: `ctx`'s own). */
  onEngineOf?: (record: SessionRecord) => SessionContext;
}

/**
 * Use case `mino exec`: runs a command in a running session; returns its exit code. A session
 * served by a warm container's agent (pool/warm-agent-dir.ts) runs a command without a terminal
 * through that agent, with no podman call (its record says it runs and the agent answers); every
 * other case, and an agent that does not answer, goes through `podman exec` after the session
 * records were reconciled with the engine.
 */
export async function execInSession(ctx: SessionContext, req: ExecRequest): Promise<number> {
  if (req.name !== undefined && !req.tty) {
    const socket = sessionAgentSocket(ctx.stateDir, req.name);
    const record = socket === undefined ? undefined : ctx.store.get(req.name);
    if (socket !== undefined && record?.status === 'running') {
      const outcome = await runThroughAgent(
        socket,
        { argv: record.prelude ? req.withPrelude(req.command) : req.command, interactive: true },
        { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signals: process },
      );
      if (outcome.kind === 'exited') return outcome.exitCode;
      trace('exec: agent unavailable', outcome.reason);
      log.info('the session agent is unavailable; using podman exec', { reason: outcome.reason });
    }
  }
  const record = await runningSession(ctx, req.name);
  const ref = record.container_id ?? `mino-${record.name}`;
  // Without a name the newest running session may live on another engine.
  const on = req.onEngineOf?.(record) ?? ctx;
  return on.runtime.exec(ref, record.prelude ? req.withPrelude(req.command) : req.command, {
    tty: req.tty,
    interactive: true,
  });
}
