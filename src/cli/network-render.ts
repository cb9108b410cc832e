import { blockedSummary, learnedRules, learnLine, type NetworkRecord } from '../network/network-record.js';
import type { SessionRecord } from '../session/session-record.js';

/**
 * What `mino network show NAME` and `mino logs NAME --network` print: the policy, then every
 * destination the session's sandbox asked for with its counts, then the blocked summary (and, in
 * learn mode, the allowlist it learned).
 */

/** The report as lines. */
export function renderNetworkReport(
  session: SessionRecord,
  record: NetworkRecord | undefined,
  live: boolean,
): string[] {
  const mode = session.network ?? 'bridge';
  if (record === undefined) {
    return mode === 'allowlist' || mode === 'learn'
      ? [`Session ${session.name}: network ${mode}, but its egress proxy left no record`]
      : [
          `Session ${session.name}: network ${mode} (no egress proxy, so nothing is recorded; use --network-allow or --network learn)`,
        ];
  }
  const state = live ? 'proxy running' : record.ended_at ? `ended ${record.ended_at}` : 'proxy not running';
  const out = [`Session ${session.name}: network ${record.mode} (${state})`];
  if (record.mode === 'allowlist')
    out.push(`Allow: ${record.policy.allow.length > 0 ? record.policy.allow.join(', ') : '(nothing)'}`);
  if (record.policy.deny.length > 0) out.push(`Deny:  ${record.policy.deny.join(', ')}`);
  if (record.presets.length > 0) out.push(`Presets: ${record.presets.join(', ')}`);
  if (record.destinations.length === 0) {
    out.push('No connections yet');
  } else {
    const rows = [...record.destinations]
      .sort((a, b) => a.destination.localeCompare(b.destination))
      .map((d) => [
        d.destination,
        String(d.allowed),
        String(d.denied),
        String(d.failed),
        d.denied > 0 ? (d.detail ?? d.reason ?? '') : d.failed > 0 ? (d.detail ?? '') : (d.rule ?? ''),
      ]);
    const head = ['DESTINATION', 'ALLOWED', 'DENIED', 'FAILED', 'RULE / REASON'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]): string =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    out.push(line(head), ...rows.map(line));
  }
  const requests = record.requests ?? [];
  if (requests.length > 0) {
    // Requests judged by HTTPS rules on method and path: refused ones first, at most 50.
    const shown = [...requests].sort(
      (a, b) => b.denied - a.denied || `${a.destination}${a.path}`.localeCompare(`${b.destination}${b.path}`),
    );
    out.push('', 'REQUESTS (HTTPS rules on method and path)');
    for (const r of shown.slice(0, 50))
      out.push(
        `${r.method} ${r.destination}${r.path}  allowed ${r.allowed}, denied ${r.denied}${r.rule ? `  (${r.rule})` : ''}`,
      );
    if (shown.length > 50) out.push(`and ${shown.length - 50} more (mino network show NAME -f json lists them all)`);
  }
  if (record.audit_suppressed > 0)
    out.push(`${record.audit_suppressed} further denials were counted but not written to the audit log`);
  const blocked = blockedSummary(record, { running: live });
  if (blocked) out.push(blocked);
  const leaks = record.destinations.filter((d) => d.reason === 'credential-leak').map((d) => d.destination);
  if (leaks.length > 0)
    out.push(
      `Possible exfiltration: a credential placeholder was sent to ${leaks.join(', ')} (blocked; see the audit log)`,
    );
  if (record.mode === 'learn') out.push(learnLine(learnedRules(record)));
  return out;
}
