import { errorMessage } from '../common/errors.js';
import type { ContainerSummary } from '../runtime/container-runtime.js';
import { readCounters } from '../sandbox/sandbox-counters.js';
import { sessionState, type SessionState } from '../sandbox/session-state.js';
import { LABEL_POOL, LABEL_STATE } from '../session/session-labels.js';
import { containerOf } from '../session/reconcile.js';
import { isActive } from '../session/session-record.js';
import type { SessionContext } from './session-context.js';
import { hostProbe } from './sweep-sessions.js';

/** Seed 004's `SandboxManagerStats` for one state directory, plus the suspended count. */
export interface SandboxStats {
  /** Containers started for sessions or the warm pool, since the counters began (counters file). */
  sandboxes_created: number;
  /** Session containers up now (running or paused). */
  active_sandboxes: number;
  /** Sessions with a client attached. */
  active_sessions: number;
  /** Running sessions with no client attached. */
  detached_sessions: number;
  /** Paused sessions. */
  suspended_sessions: number;
  /** Warm pool containers (label io.mino.pool) of this state directory that are up; null when the engine could not be asked. */
  pool_size: number | null;
  /** Pool hits / (hits + misses); null when no run could have used the pool. */
  pool_hit_rate: number | null;
  /** Mean container creation time in ms; null before the first one. */
  avg_creation_time_ms: number | null;
  /** Sessions (and warm containers) removed because a timeout passed. */
  timeout_destroys: number;
}

/** Stats and what could not be counted. */
export interface StatsReport {
  stats: SandboxStats;
  warnings: string[];
}

const up = (c: ContainerSummary): boolean => c.state === 'running' || c.state === 'paused';

/**
 * Computes the stats from files that survive restarts (the counters file, the session records)
 * and one `podman ps` of this state directory's containers (warm pool size, and whether each
 * session's container is really up, paused or gone). Changes nothing. Without the engine the
 * session states come from the records alone and pool_size is null.
 */
export async function sandboxStats(ctx: SessionContext): Promise<StatsReport> {
  const warnings: string[] = [];
  const listing = ctx.runtime.listContainers({ [LABEL_STATE]: ctx.stateKey }).then(
    (containers) => containers,
    (err: unknown) => {
      warnings.push(`Podman could not be asked (${errorMessage(err).split('\n')[0]}): states come from the session files alone, pool size unknown`);
      return undefined;
    },
  );
  const counters = readCounters(ctx.stateDir);
  const list = ctx.store.list();
  warnings.push(...list.warnings);
  const containers = await listing;
  const counts: Record<SessionState, number> = { active: 0, detached: 0, suspended: 0, terminated: 0 };
  let activeSandboxes = 0;
  for (const s of list.sessions) {
    if (!isActive(s)) continue;
    const c = containers && containerOf(s, containers, ctx.stateKey);
    const state = sessionState(s, containers ? (c ? c.state : undefined) : undefined, hostProbe);
    counts[state] += 1;
    if (c ? up(c) : state !== 'terminated') activeSandboxes += 1;
  }
  const pool = containers?.filter((c) => c.labels[LABEL_POOL] !== undefined && up(c)).length;
  const eligible = counters.pool_hits + counters.pool_misses;
  return {
    stats: {
      sandboxes_created: counters.sandboxes_created,
      active_sandboxes: activeSandboxes,
      active_sessions: counts.active,
      detached_sessions: counts.detached,
      suspended_sessions: counts.suspended,
      pool_size: pool ?? null,
      pool_hit_rate: eligible === 0 ? null : Math.round((counters.pool_hits / eligible) * 1000) / 1000,
      avg_creation_time_ms: counters.sandboxes_created === 0 ? null : Math.round(counters.creation_ms_total / counters.sandboxes_created),
      timeout_destroys: counters.timeout_destroys,
    },
    warnings,
  };
}
