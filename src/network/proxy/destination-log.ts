import { formatDestination, type Destination } from '../destination.js';
import type { NetworkRecord, DestinationEntry, RequestEntry } from '../network-record.js';
import type { DenyReason } from '../policy.js';

/**
 * What the proxy saw, destination by destination, kept in the session's network record. Denials
 * also go to the audit log, one event each, up to a cap per session (an agent hammering a blocked
 * host must not fill the disk); the rest are counted in `audit_suppressed`.
 */

/** Where denials are reported (the audit log). */
export type DenialSink = (event: {
  host: string;
  port: number;
  destination: string;
  reason: DenyReason;
  detail: string;
  protocol: string;
}) => void;

/** Denials written to the audit log per session before they are only counted. */
const AUDIT_DENIAL_CAP = 1000;

/** Distinct requests (destination, method, path) kept per session; more are not recorded. */
const MAX_REQUESTS = 2000;

/** The destinations of one session, and writing them out. */
export class DestinationLog {
  private readonly entries = new Map<string, DestinationEntry>();
  private readonly requests = new Map<string, RequestEntry>();
  private timer: NodeJS.Timeout | undefined;
  private audited = 0;
  /** When each entry was last seen (ms), made into its `last_seen` text when written out. */
  private readonly seen = new Map<DestinationEntry, number>();
  /** The last destination object counted, and its entry (a kept-alive connection's requests). */
  private lastDest: Destination | undefined;
  private lastEntry: DestinationEntry | undefined;

  constructor(
    private record: NetworkRecord,
    private readonly persist: (record: NetworkRecord) => void,
    private readonly onDenial: DenialSink,
    private readonly flushDelayMs = 1000,
  ) {
    for (const e of record.destinations) this.entries.set(e.destination, { ...e });
    for (const r of record.requests ?? []) this.requests.set(`${r.destination} ${r.method} ${r.path}`, { ...r });
  }

  /** A request judged by L7 rules or forwarded as plain HTTP (`path` without its query). */
  request(dest: Destination, method: string, path: string, allowed: boolean, rule: string | null): void {
    const destination = formatDestination(dest);
    const key = `${destination} ${method} ${path}`;
    let r = this.requests.get(key);
    if (!r) {
      if (this.requests.size >= MAX_REQUESTS) return;
      r = { destination, method, path, allowed: 0, denied: 0, rule: null };
      this.requests.set(key, r);
    }
    if (allowed) {
      r.allowed++;
      if (rule !== null) r.rule = rule;
    } else r.denied++;
    this.schedule();
  }

  /** The entry of `dest`, seen now (its `last_seen` is stamped when the record is written). */
  private entry(dest: Destination | string): DestinationEntry {
    const now = Date.now();
    if (dest === this.lastDest && this.lastEntry) {
      this.seen.set(this.lastEntry, now);
      return this.lastEntry;
    }
    const key = typeof dest === 'string' ? dest : formatDestination(dest);
    let e = this.entries.get(key);
    if (!e) {
      const iso = new Date(now).toISOString();
      e = {
        destination: key,
        allowed: 0,
        denied: 0,
        failed: 0,
        rule: null,
        reason: null,
        detail: null,
        first_seen: iso,
        last_seen: iso,
      };
      this.entries.set(key, e);
    }
    this.seen.set(e, now);
    if (typeof dest !== 'string') {
      this.lastDest = dest;
      this.lastEntry = e;
    }
    return e;
  }

  /** An allowed connection or request. */
  allowed(dest: Destination, rule: string): void {
    const e = this.entry(dest);
    e.allowed++;
    e.rule = rule;
    this.schedule();
  }

  /** An allowed destination that could not be resolved or reached. */
  failed(dest: Destination, rule: string, detail: string): void {
    const e = this.entry(dest);
    e.failed++;
    e.rule = rule;
    e.detail = detail;
    this.schedule();
  }

  /** A refused connection or request (also reported to the audit log, up to the cap). */
  denied(dest: Destination | string, reason: DenyReason, detail: string, protocol: string): void {
    const e = this.entry(dest);
    e.denied++;
    e.reason = reason;
    e.detail = detail;
    if (this.audited < AUDIT_DENIAL_CAP) {
      this.audited++;
      const host = typeof dest === 'string' ? dest : dest.host;
      const port = typeof dest === 'string' ? 0 : dest.port;
      this.onDenial({ host, port, destination: e.destination, reason, detail, protocol });
    } else {
      this.record.audit_suppressed++;
    }
    this.schedule();
  }

  /** Replaces the policy part of the record (after `mino network allow/deny`). */
  setPolicy(policy: NetworkRecord['policy']): void {
    this.record = { ...this.record, policy };
    this.flush();
  }

  /** The record as it stands. */
  snapshot(): NetworkRecord {
    for (const [e, ms] of this.seen) e.last_seen = new Date(ms).toISOString();
    this.seen.clear();
    return {
      ...this.record,
      updated_at: new Date().toISOString(),
      destinations: [...this.entries.values()].map((e) => ({ ...e })),
      ...(this.requests.size > 0 ? { requests: [...this.requests.values()].map((r) => ({ ...r })) } : {}),
    };
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.flushDelayMs);
    this.timer.unref();
  }

  /** Writes the record now. */
  flush(ended = false): NetworkRecord {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const snap = this.snapshot();
    if (ended) snap.ended_at = snap.updated_at;
    this.record = { ...snap, destinations: [] };
    this.persist(snap);
    return snap;
  }
}
