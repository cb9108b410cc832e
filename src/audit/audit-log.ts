import { appendFileSync, chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSecretName } from '../common/redact.js';

/** Events mino records. */
export type AuditEvent =
  | 'session.created'
  | 'session.started'
  | 'session.stopped'
  | 'session.failed'
  | 'session.reconciled';

/** Plain values only: the log never takes environment maps or secret values. */
export type AuditData = Record<string, string | number | boolean | null | string[]>;

/**
 * Append-only JSONL audit log at `<stateDir>/audit.log` (mode 0600): one line per event,
 * `{"timestamp", "event", "data"}` as mino 1.6. Each line is one O_APPEND write, so concurrent
 * mino processes never interleave inside a line. Keys that look secret are masked. Failures are
 * reported to `onError`, never thrown into the caller's path.
 */
export class AuditLog {
  readonly path: string;
  private checkedMode = false;

  constructor(
    stateDir: string,
    private readonly enabled = true,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.path = join(stateDir, 'audit.log');
  }

  /** Appends one event; returns false when it could not be written (or logging is off). */
  record(event: AuditEvent, data: AuditData): boolean {
    if (!this.enabled) return false;
    const safe: AuditData = {};
    for (const [k, v] of Object.entries(data)) safe[k] = isSecretName(k) ? '***' : v;
    const line = `${JSON.stringify({ timestamp: new Date().toISOString(), event, data: safe })}\n`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      appendFileSync(this.path, line, { mode: 0o600 });
      if (!this.checkedMode) {
        if ((statSync(this.path).mode & 0o077) !== 0) chmodSync(this.path, 0o600);
        this.checkedMode = true;
      }
      return true;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }
}
