import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { isErrno } from '../common/errno.js';
import { withFileLock } from '../common/file-lock.js';

/**
 * Running totals behind `mino stats` (sandboxes created, warm hits, creation times…), kept in `<state>/sandbox-counters.json`
 * so that `mino stats` survives restarts and never has to read the whole audit log. Gauges
 * (active sessions, pool size) are not here: they are counted from sessions and containers.
 */
export interface SandboxCounters {
  /** Containers started for sessions or the pool, cold or warm. */
  sandboxes_created: number;
  /** Sum of the creation times (ms) of those containers, for the average. */
  creation_ms_total: number;
  /** Runs served by a warm pool container. */
  pool_hits: number;
  /** Runs the pool could have served (pool enabled, not --fresh) that started cold. */
  pool_misses: number;
  /** Sessions and warm containers removed because a timeout expired. */
  timeout_destroys: number;
}

/** All counters at zero. */
export const ZERO_COUNTERS: Readonly<SandboxCounters> = Object.freeze({
  sandboxes_created: 0,
  creation_ms_total: 0,
  pool_hits: 0,
  pool_misses: 0,
  timeout_destroys: 0,
});

const FILE = 'sandbox-counters.json';

function parse(text: string): SandboxCounters {
  const out: SandboxCounters = { ...ZERO_COUNTERS };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out; // a torn or foreign file counts as zero rather than breaking every run
  }
  if (data && typeof data === 'object') {
    for (const key of Object.keys(out) as (keyof SandboxCounters)[]) {
      const v = (data as Record<string, unknown>)[key];
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[key] = v;
    }
  }
  return out;
}

/** The counters of the state directory `stateDir` (zero when none were recorded yet). */
export function readCounters(stateDir: string): SandboxCounters {
  try {
    return parse(readFileSync(join(stateDir, FILE), 'utf8'));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { ...ZERO_COUNTERS };
    throw err;
  }
}

/**
 * Adds `delta` to the counters of `stateDir` under a lock (concurrent runs never lose an
 * increment) and returns the new totals. Negative or non-finite deltas are ignored.
 */
export function bumpCounters(stateDir: string, delta: Partial<SandboxCounters>): SandboxCounters {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  return withFileLock(
    join(stateDir, `${FILE}.lock`),
    () => {
      const now = readCounters(stateDir);
      for (const [key, v] of Object.entries(delta) as [keyof SandboxCounters, number][]) {
        if (key in now && Number.isFinite(v) && v > 0) now[key] += v;
      }
      writeFileAtomic(join(stateDir, FILE), `${JSON.stringify(now)}\n`, {
        mode: 0o600,
        mkdirMode: 0o700,
        durable: false,
      });
      return now;
    },
    { what: 'the sandbox counters' },
  );
}
