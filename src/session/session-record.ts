/**
 * The session record, stored as pretty JSON exactly as mino 1.6 writes it (snake_case fields,
 * RFC 3339 times), so mino 1.6 and this port list each other's sessions. Fields mino 1.6 does
 * not know (`exit_code`, `owner_pid`, `mode`) are ignored by its serde; fields we do not know
 * are kept in `extra` and written back unchanged.
 */

/** Lifecycle of a session. "Active" means starting or running. */
export type SessionStatus = 'starting' | 'running' | 'stopped' | 'failed';

const STATUSES: readonly SessionStatus[] = ['starting', 'running', 'stopped', 'failed'];

/** One session. */
export interface SessionRecord {
  id: string;
  name: string;
  project_dir: string;
  command: string[];
  /** Container ID or name (`mino-<name>`); null until known. */
  container_id: string | null;
  status: SessionStatus;
  created_at: string;
  updated_at: string;
  cloud_providers: string[];
  home_volume: string | null;
  /** Exit code of the session's command once it ended (ours). */
  exit_code?: number | null;
  /** PID of the `mino run` process that owns the session (ours). */
  owner_pid?: number | null;
  /** `command`, `shell` or `detached` (ours). */
  mode?: string;
  /** Fields written by other versions, preserved on rewrite. */
  extra?: Record<string, unknown>;
}

const KNOWN = new Set([
  'id', 'name', 'project_dir', 'command', 'container_id', 'status', 'created_at', 'updated_at',
  'cloud_providers', 'home_volume', 'exit_code', 'owner_pid', 'mode',
]);

/** True for starting and running sessions. */
export function isActive(record: Pick<SessionRecord, 'status'>): boolean {
  return record.status === 'starting' || record.status === 'running';
}

function fail(what: string): never {
  throw new Error(what);
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : fail(`field '${key}' must be a string`);
}

function nullableStr(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : fail(`field '${key}' must be a string or null`);
}

function strArray(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return fail(`field '${key}' must be a list of strings`);
}

/**
 * Parses a session file's text. Validation is hand-written (not zod) because `mino list`
 * parses every file on each call. Throws an Error naming the bad field.
 */
export function parseSessionRecord(text: string): SessionRecord {
  const raw: unknown = JSON.parse(text);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('not a JSON object');
  const o = raw as Record<string, unknown>;
  const status = str(o, 'status');
  if (!(STATUSES as readonly string[]).includes(status)) fail(`unknown status '${status}'`);
  const record: SessionRecord = {
    id: str(o, 'id'),
    name: str(o, 'name'),
    project_dir: str(o, 'project_dir'),
    command: strArray(o, 'command'),
    container_id: nullableStr(o, 'container_id'),
    status: status as SessionStatus,
    created_at: str(o, 'created_at'),
    updated_at: str(o, 'updated_at'),
    cloud_providers: strArray(o, 'cloud_providers'),
    home_volume: nullableStr(o, 'home_volume'),
  };
  if (typeof o.exit_code === 'number' || o.exit_code === null) record.exit_code = o.exit_code;
  if (typeof o.owner_pid === 'number' || o.owner_pid === null) record.owner_pid = o.owner_pid;
  if (typeof o.mode === 'string') record.mode = o.mode;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!KNOWN.has(k)) extra[k] = v;
  if (Object.keys(extra).length > 0) record.extra = extra;
  return record;
}

/** Serializes a record as pretty JSON (mino 1.6 field order, then ours, then preserved extras). */
export function serializeSessionRecord(record: SessionRecord): string {
  const { extra, ...known } = record;
  const out: Record<string, unknown> = {
    id: known.id,
    name: known.name,
    project_dir: known.project_dir,
    command: known.command,
    container_id: known.container_id,
    status: known.status,
    created_at: known.created_at,
    updated_at: known.updated_at,
    cloud_providers: known.cloud_providers,
    home_volume: known.home_volume,
  };
  if (known.exit_code !== undefined) out.exit_code = known.exit_code;
  if (known.owner_pid !== undefined) out.owner_pid = known.owner_pid;
  if (known.mode !== undefined) out.mode = known.mode;
  for (const [k, v] of Object.entries(extra ?? {})) if (!(k in out)) out[k] = v;
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Inputs of {@link newSessionRecord}. */
export interface NewSession {
  name: string;
  projectDir: string;
  command: string[];
  containerId: string | null;
  status: SessionStatus;
  ownerPid: number;
  mode: string;
}

/** A fresh record with a v4 UUID and both timestamps set to now. */
export function newSessionRecord(input: NewSession, now = new Date()): SessionRecord {
  const at = now.toISOString();
  return {
    id: globalThis.crypto.randomUUID(),
    name: input.name,
    project_dir: input.projectDir,
    command: input.command,
    container_id: input.containerId,
    status: input.status,
    created_at: at,
    updated_at: at,
    cloud_providers: [],
    home_volume: null,
    exit_code: null,
    owner_pid: input.ownerPid,
    mode: input.mode,
  };
}
