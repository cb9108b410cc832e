import type { Command } from 'commander';
import { reconcileSessions } from '../../app/reconcile-sessions.js';
import { UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { isActive, type SessionRecord } from '../../session/session-record.js';
import { sessionCli } from '../global-options.js';

const FORMATS = ['table', 'json', 'plain'] as const;

function started(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function table(sessions: SessionRecord[], all: boolean): string {
  if (sessions.length === 0) return `${all ? 'No sessions' : 'No active sessions'}\n`;
  const p = palette(process.stdout);
  const colour = { running: p.green, starting: p.cyan, stopped: p.dim, failed: p.red };
  const rows = sessions.map((s) => [
    s.name, s.status, s.exit_code === undefined || s.exit_code === null ? '-' : String(s.exit_code),
    s.network ?? '-', started(s.created_at), s.project_dir.split('/').pop() || s.project_dir,
  ]);
  const head = ['NAME', 'STATUS', 'EXIT', 'NETWORK', 'STARTED', 'PROJECT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], paint?: (i: number, c: string) => string): string =>
    cells.map((c, i) => {
      const padded = i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0);
      return paint ? paint(i, padded) : padded;
    }).join('  ').trimEnd();
  const out = [line(head, (_i, c) => p.bold(c))];
  for (const [k, r] of rows.entries()) {
    const status = sessions[k]?.status ?? 'stopped';
    out.push(line(r, (i, c) => (i === 1 ? colour[status](c) : c)));
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
    .addHelpText('after', `
JSON: an array of session records as stored (snake_case: id, name, project_dir, command,
container_id, status, created_at, updated_at, cloud_providers, home_volume, exit_code, owner_pid, mode,
network: bridge, host, none, allowlist or learn; see mino network show NAME).`)
    .action(async (opts: { all?: boolean; format: string }, cmd: Command) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table, json or plain');
      }
      const { ctx } = sessionCli(cmd);
      const { sessions, warnings } = await reconcileSessions(ctx, { activeOnly: true });
      for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
      const shown = opts.all ? sessions : sessions.filter(isActive);
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(shown.map(({ extra, ...r }) => ({ ...r, ...extra })), null, 2)}\n`);
      } else if (opts.format === 'plain') {
        process.stdout.write(shown.map((s) => `${s.name}\n`).join(''));
      } else {
        process.stdout.write(table(shown, Boolean(opts.all)));
      }
    });
}
