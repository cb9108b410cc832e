import { readCounters } from '../session/sandbox-counters.js';
import { listPoolKeys, warmEntries } from '../pool/pool-index.js';
import { sessionState, type SessionState } from '../session/session-state.js';
import { isActive } from '../session/session-record.js';
import type { SessionContext } from '../context/session-context.js';
import { hostProbe } from './sweep-sessions.js';

/** The figures of `mino stats` for one state directory. */
export interface SandboxStats {
  /** Containers started for sessions or the warm pool, since the counters began (counters file). */
  sandboxes_created: number;
  /** Session containers up (running or paused). */
  active_sandboxes: number;
  /** Sessions with a client attached. */
  active_sessions: number;
  /** Running sessions with no client attached. */
  detached_sessions: number;
  /** Suspended (paused) sessions. */
  suspended_sessions: number;
  /** Warm pool containers of this state directory (the pool's index files, expired ones left out). */
  pool_size: number;
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

/**
 * Computes the stats from files that survive restarts, without asking podman (each podman call
 * costs 30–50 ms; `mino stats` must stay close to a bare Node start): the counters file, the
 * session records with the liveness of their client processes, and the warm pool's index. The
 * records are as current as the last reconciliation (every `mino list` and the sweep do one).
 * Changes nothing.
 */
export function sandboxStats(ctx: Pick<SessionContext, 'stateDir' | 'store'>, now = Date.now()): StatsReport {
  const counters = readCounters(ctx.stateDir);
  const { sessions, warnings } = ctx.store.list();
  const counts: Record<SessionState, number> = { active: 0, detached: 0, suspended: 0, terminated: 0 };
  for (const s of sessions) {
    if (isActive(s)) counts[sessionState(s, undefined, hostProbe)] += 1;
  }
  const eligible = counters.pool_hits + counters.pool_misses;
  return {
    stats: {
      sandboxes_created: counters.sandboxes_created,
      active_sandboxes: counts.active + counts.detached + counts.suspended,
      active_sessions: counts.active,
      detached_sessions: counts.detached,
      suspended_sessions: counts.suspended,
      pool_size: listPoolKeys(ctx.stateDir).reduce(
        (n, key) => n + warmEntries(ctx.stateDir, key, now / 1000).length,
        0,
      ),
      pool_hit_rate: eligible === 0 ? null : Math.round((counters.pool_hits / eligible) * 1000) / 1000,
      avg_creation_time_ms:
        counters.sandboxes_created === 0 ? null : Math.round(counters.creation_ms_total / counters.sandboxes_created),
      timeout_destroys: counters.timeout_destroys,
    },
    warnings,
  };
}
