import type { Command } from 'commander';
import { reconcileSessions } from '../../lifecycle/reconcile-sessions.js';
import { UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { hostProbe } from '../../lifecycle/sweep-sessions.js';
import type { ContainerSummary } from '../../runtime/container-runtime.js';
import { sessionState, stateLabel, type SessionState } from '../../session/session-state.js';
import { containerOf } from '../../session/reconcile.js';
import { isActive, type SessionRecord } from '../../session/session-record.js';
import { sessionCli } from '../global-options.js';
import { branchColumns, type BranchColumn } from '../../branch/branch-columns.js';

const FORMATS = ['table', 'json', 'plain'] as const;

function started(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Each session's lifecycle state, from its record and (when podman was asked) its container. */
function statesOf(
  sessions: readonly SessionRecord[],
  containers: readonly ContainerSummary[],
  stateKey: string,
): SessionState[] {
  return sessions.map((s) => {
    const c = containers.length > 0 && isActive(s) ? containerOf(s, containers, stateKey) : undefined;
    return sessionState(s, c?.state, hostProbe);
  });
}

/** Sessions whose engine did not answer: their state is unknown (never guessed from a missing listing). */
function unknownOn(unreachable: readonly string[]): (s: SessionRecord) => boolean {
  const engines = new Set(unreachable);
  return (s) => isActive(s) && engines.has(s.engine ?? 'local');
}

function table(
  sessions: SessionRecord[],
  states: SessionState[],
  all: boolean,
  branches: readonly (BranchColumn | undefined)[],
  unknown: (s: SessionRecord) => boolean,
): string {
  if (sessions.length === 0) return `${all ? 'No sessions' : 'No active sessions'}\n`;
  // BRANCH and AHEAD only when a branch session is shown (before PROJECT, which stays last).
  const withBranch = branches.some((b) => b !== undefined);
  const branchCells = (i: number): string[] => {
    if (!withBranch) return [];
    const b = branches[i];
    return [b?.branch ?? '-', b?.ahead === undefined ? '-' : String(b.ahead)];
  };
  const p = palette(process.stdout);
  const colour = { running: p.green, starting: p.cyan, stopped: p.dim, failed: p.red };
  const rows = sessions.map((s, i) => [
    s.name,
    unknown(s) ? 'Unknown' : stateLabel(states[i] ?? 'terminated'),
    s.status,
    s.exit_code === undefined || s.exit_code === null ? '-' : String(s.exit_code),
    s.network ?? '-',
    s.engine ?? 'local',
    started(s.created_at),
    ...branchCells(i),
    s.project_dir.split('/').pop() || s.project_dir,
  ]);
  const head = [
    'NAME',
    'STATE',
    'STATUS',
    'EXIT',
    'NETWORK',
    'ENGINE',
    'STARTED',
    ...(withBranch ? ['BRANCH', 'AHEAD'] : []),
    'PROJECT',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], paint?: (i: number, c: string) => string): string =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0);
        return paint ? paint(i, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [line(head, (_i, c) => p.bold(c))];
  for (const [k, r] of rows.entries()) {
    const status = sessions[k]?.status ?? 'stopped';
    out.push(line(r, (i, c) => (i === 2 ? colour[status](c) : c)));
  }
  out.push(`${sessions.length} session(s)`);
  return `${out.join('\n')}\n`;
}

/** `mino list`: sessions, reconciled with podman first. */
export function registerList(program: Command): void {
  program
    .command('list')
    .alias('ls')
    .description('List sessions (running and starting; -a for all), checked against podman')
    .option('-a, --all', 'include stopped and failed sessions')
    .option('-f, --format <format>', 'table, json or plain', 'table')
    .addHelpText(
      'after',
      `
STATE is the session's lifecycle state: Active (a client is attached: its foreground mino run or a
mino attach), Detached (running, no client), Suspended (paused by mino suspend), Terminated (ended).
JSON: an array of session records as stored (snake_case: id, name, project_dir, command,
container_id, status, created_at, updated_at, cloud_providers, home_volume, exit_code, owner_pid, mode,
network: bridge, host, none, allowlist or learn; see mino network show NAME; engine: the remote
engine it runs on, absent for this machine (ENGINE local); prelude; branch (the NAME of branch
mino/NAME) and ahead (its commits since the session's start) for --branch sessions;
and the lifecycle fields attached_by, detached_at, suspended_at, last_output_at when set), each
with its "state" (active, detached, suspended or terminated; unknown while its engine does not answer).`,
    )
    .action(async (opts: { all?: boolean; format: string }, cmd: Command) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table, json or plain');
      }
      const { ctx } = sessionCli(cmd);
      const { sessions, warnings, containers, unreachable } = await reconcileSessions(ctx, { activeOnly: true });
      const unknown = unknownOn(unreachable);
      for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
      const shown = opts.all ? sessions : sessions.filter(isActive);
      const states = statesOf(shown, containers, ctx.stateKey);
      const branches = opts.format === 'plain' ? [] : await branchColumns(shown);
      if (opts.format === 'json') {
        process.stdout.write(
          `${JSON.stringify(
            shown.map(({ extra, ...r }, i) => {
              const ahead = branches[i]?.ahead;
              return {
                ...r,
                ...extra,
                state: unknown(r) ? 'unknown' : states[i],
                ...(ahead === undefined ? {} : { ahead }),
              };
            }),
            null,
            2,
          )}\n`,
        );
      } else if (opts.format === 'plain') {
        process.stdout.write(shown.map((s) => `${s.name}\n`).join(''));
      } else {
        process.stdout.write(table(shown, states, Boolean(opts.all), branches, unknown));
      }
    });
}
