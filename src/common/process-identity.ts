import { readFileSync } from 'node:fs';
import { pidAlive } from './pid-alive.js';

/**
 * A process named so that a recycled PID is not mistaken for it: `<pid>@<start time>` with the
 * start time in clock ticks since boot from /proc (Linux); just `<pid>` where /proc is missing.
 */

/** Start time of a process from /proc/<pid>/stat (field 22), or undefined. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** This process's own identity, read once (its start time never changes). */
let own: { pid: number; identity: string } | undefined;

/** The identity of process `pid` (default: this one). */
export function processIdentity(pid: number = process.pid): string {
  if (pid === own?.pid) return own.identity;
  const start = startTicks(pid);
  const identity = start === undefined ? String(pid) : `${pid}@${start}`;
  if (pid === process.pid) own = { pid, identity };
  return identity;
}

/** The PID of an identity, or undefined when it is not one. */
export function identityPid(identity: string): number | undefined {
  const pid = Number(identity.split('@')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when the process of `identity` still runs (same PID and, where known, same start time). */
export function identityAlive(identity: string): boolean {
  const pid = identityPid(identity);
  if (pid === undefined || !pidAlive(pid)) return false;
  const start = identity.split('@')[1];
  if (start === undefined) return true;
  const now = startTicks(pid);
  return now === undefined || now === start;
}
