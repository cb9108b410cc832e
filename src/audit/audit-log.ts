import { appendFileSync, closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSecretName } from '../common/redact.js';

/**
 * Events mino records (mino 1.6's `session.*` names and `credentials.injected`, plus our
 * `session.reconciled`, the `network.*` events of a session's egress proxy: each denied
 * connection, its attaching to the container, policy changes and its end, `logins.reset`, and the lifecycle events attached/detached/suspended/resumed/expired).
 */
export type AuditEvent =
  | 'session.created'
  | 'session.started'
  | 'session.stopped'
  | 'session.failed'
  | 'session.reconciled'
  | 'session.attached'
  | 'session.detached'
  | 'session.suspended'
  | 'session.resumed'
  | 'session.expired'
  | 'cache.removed'
  | 'network.denied'
  | 'network.attached'
  | 'network.policy'
  | 'network.stopped'
  | 'credentials.injected'
  | 'logins.reset';

/** One value of an event's data: scalars or a list of strings (e.g. a command line). */
export type AuditValue = string | number | boolean | null | readonly string[];

/**
 * An event's data: flat, with lower snake_case keys (`name`, `exit_code`, ...). There is
 * deliberately no nested object: environment maps are never accepted, and their typical
 * upper-case keys are dropped at run time if one is spread into the data anyway.
 */
export type AuditData = Record<string, AuditValue>;

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** false for `general.audit_log = false`: nothing is written (default true). */
  enabled?: boolean;
  /** Told about every I/O error (default: ignored). Never throws into the caller. */
  onError?: (err: unknown) => void;
}

const KEY = /^[a-z][a-z0-9_]*$/;
// `NAME=` of a `NAME=value` inside a string (e.g. `-e API_TOKEN=x` in an error message,
// `--token=x` in a command), and the value after it: it runs to the next blank outside quotes; a
// quoted part ("a b", 'a b') belongs to it, an unterminated quote runs to the end of the text.
const ASSIGNMENT_NAME = /\b([A-Za-z_][A-Za-z0-9_-]*)=/g;
const ASSIGNMENT_VALUE = /(?:"[^"]*(?:"|$)|'[^']*(?:'|$)|[^\s'"])*/y;
const MASK = '***';

/**
 * Masks the value of every `NAME=value` in `text` whose NAME looks secret. The value of a plain
 * NAME is searched too, so `--env=API_TOKEN=x` is masked. One linear pass, no recursion.
 */
export function redactText(text: string): string {
  const names = new RegExp(ASSIGNMENT_NAME.source, 'g');
  const value = new RegExp(ASSIGNMENT_VALUE.source, 'y');
  let out = '';
  let kept = 0;
  for (let m = names.exec(text); m !== null; m = names.exec(text)) {
    if (!isSecretName(m[1]!.replace(/-/g, '_'))) continue;
    value.lastIndex = names.lastIndex;
    value.exec(text);
    out += `${text.slice(kept, names.lastIndex)}${MASK}`;
    kept = names.lastIndex = value.lastIndex;
  }
  return out + text.slice(kept);
}

/**
 * Makes event data safe to log: keys that are not lower snake_case are dropped (this catches a
 * spread environment map), values of secret-looking keys become `***`, `NAME=value` inside
 * strings is masked when NAME looks secret, and anything but scalars and string lists is dropped.
 */
export function sanitizeAuditData(data: AuditData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!KEY.test(key)) continue;
    if (isSecretName(key)) out[key] = MASK;
    else if (typeof value === 'string') out[key] = redactText(value);
    else if (typeof value === 'number') out[key] = Number.isFinite(value) ? value : null;
    else if (typeof value === 'boolean' || value === null) out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value.map(redactText);
  }
  return out;
}

/**
 * Append-only JSONL audit log at `<stateDir>/audit.log`, one line per event as in mino 1.6:
 * `{"timestamp": RFC 3339, "event": "...", "data": {...}}`.
 *
 * - The file is created 0600 (and narrowed to 0600 if found wider: it names projects and
 *   commands). Symlinks at the path are refused (O_NOFOLLOW).
 * - Each line is a single append on an O_APPEND descriptor, so lines of concurrent mino
 *   processes never interleave.
 * - Secret values are never written: see {@link sanitizeAuditData}. Do not pass environment
 *   maps or credential values; pass names and counts.
 * - I/O errors go to `onError` and make {@link record} return false; they never throw.
 */
export class AuditLog {
  /** The log file. */
  readonly path: string;
  /** False when logging is turned off. */
  readonly enabled: boolean;
  private readonly onError: (err: unknown) => void;
  private modeChecked = false;

  /**
   * @param stateDir mino's state directory (created 0700 if missing).
   * @param options options, or (older form) just `enabled`, with `onError` as third argument.
   */
  constructor(stateDir: string, options: AuditLogOptions | boolean = {}, onError?: (err: unknown) => void) {
    const opts = typeof options === 'boolean' ? { enabled: options, onError } : options;
    this.path = join(stateDir, 'audit.log');
    this.enabled = opts.enabled ?? true;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** Appends one event. Returns false only when an I/O error prevented it (reported to onError). */
  record(event: AuditEvent, data: AuditData = {}): boolean {
    if (!this.enabled) return true;
    try {
      const line = `${JSON.stringify({ timestamp: new Date().toISOString(), event, data: sanitizeAuditData(data) })}\n`;
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      // O_NONBLOCK: a FIFO planted at the path fails (ENXIO) instead of blocking the open
      // forever; it changes nothing for a regular file.
      const fd = openSync(
        this.path,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        0o600,
      );
      try {
        if (!this.modeChecked) {
          const st = fstatSync(fd);
          if (!st.isFile()) throw new Error(`${this.path} is not a regular file`);
          if ((st.mode & 0o077) !== 0) fchmodSync(fd, st.mode & 0o600);
          this.modeChecked = true;
        }
        appendFileSync(fd, line);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      try {
        this.onError(err);
      } catch {
        // A failing error callback must not break the run either.
      }
      return false;
    }
  }
}
