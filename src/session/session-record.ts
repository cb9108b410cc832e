import { v7 as uuidv7 } from 'uuid';

/**
 * The session record, stored as pretty JSON with the field names, order and types of mino 1.6
 * (serde), so mino 1.6 and this port read each other's files:
 *
 * - Written by both: `id` (a UUID: v4 from mino 1.6, v7 from us), `name`, `project_dir`, `command`, `container_id` (string or
 *   null), `status`, `created_at`, `updated_at` (RFC 3339), `cloud_providers`, `home_volume`
 *   (string or null). serde requires all of them except the two `Option` fields
 *   (`container_id`, `home_volume`), which may be missing (read as null). We always write all.
 * - Ours only: `exit_code`, `owner_pid`, `mode`, `network`, `prelude`, and the lifecycle fields `attached_by`,
 *   `detached_at`, `suspended_at`, `last_output_at` (see src/session/session-state.ts). serde ignores unknown fields, so mino 1.6 still
 *   reads our files.
 * - Anything else (e.g. the native-runtime fields of newer mino: `runtime_mode`, `process_id`,
 *   `log_file`, `sandbox_user`) is kept in `extra` and written back unchanged.
 */

/** Lifecycle of a session. "Active" means starting or running. */
export type SessionStatus = 'starting' | 'running' | 'stopped' | 'failed';

/** Every status, in lifecycle order. */
const SESSION_STATUSES: readonly SessionStatus[] = ['starting', 'running', 'stopped', 'failed'];

/** One session, field names as in the JSON file. */
export interface SessionRecord {
  /** UUID v4 (a new one per session, also when a name is reused). */
  id: string;
  /** Session name; the file is `<name>.json`. */
  name: string;
  /** Project directory mounted into the container. */
  project_dir: string;
  /** Command run in the container. */
  command: string[];
  /** Container ID or name (`mino-<name>`); null until known. */
  container_id: string | null;
  status: SessionStatus;
  /** RFC 3339 creation time (UTC). */
  created_at: string;
  /** RFC 3339 time of the last change (UTC). */
  updated_at: string;
  /** Credential providers that delivered to the session (`github`, `aws`...); names only. Never populated by mino 1.6. */
  cloud_providers: string[];
  /** Home volume name, if one was mounted. */
  home_volume: string | null;
  /** Exit code of the session's command once it ended (ours; absent in mino 1.6 files). */
  exit_code?: number | null;
  /** PID of the `mino run` process that owns the session (ours). */
  owner_pid?: number | null;
  /** `command`, `shell` or `detached` (ours). */
  mode?: string;
  /** Network mode: `bridge`, `host`, `none`, `allowlist` or `learn` (ours). */
  network?: string;
  /** The registered engine the session runs on (ours; absent: this machine's). */
  engine?: string;
  /**
   * The session has a session env file (ours): `mino exec` runs its commands through the prelude
   * too, so they see the session's credential variables.
   */
  prelude?: boolean;
  /** The `mino attach` client attached now, as `<pid>@<process start>` (ours; null: none). */
  attached_by?: string | null;
  /** RFC 3339 time the last client left (ours; null: never attached since the start). */
  detached_at?: string | null;
  /** RFC 3339 time of `mino suspend` (ours; null: not suspended). */
  suspended_at?: string | null;
  /** RFC 3339 time of the container's last output, as last seen by the timeout sweep (ours). */
  last_output_at?: string | null;
  /** Branch NAME of a branch session (ours): `project_dir` is its working copy, the branch mino/NAME. */
  branch?: string;
  /** Fields this version does not know, preserved on rewrite. */
  extra?: Record<string, unknown>;
}

/** A session file whose content is not a valid record. */
export class InvalidSessionRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSessionRecordError';
  }
}

const KNOWN = new Set([
  'id',
  'name',
  'project_dir',
  'command',
  'container_id',
  'status',
  'created_at',
  'updated_at',
  'cloud_providers',
  'home_volume',
  'exit_code',
  'owner_pid',
  'mode',
  'network',
  'engine',
  'prelude',
  'attached_by',
  'detached_at',
  'suspended_at',
  'last_output_at',
  'branch',
]);

// serde's Uuid accepts the hyphenated and the simple form; mino 1.6 writes the hyphenated one.
const UUID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$/;
// chrono writes `2024-05-01T12:34:56.123456789Z`; we write `2024-05-01T12:34:56.123Z`.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** True for starting and running sessions. */
export function isActive(record: Pick<SessionRecord, 'status'>): boolean {
  return record.status === 'starting' || record.status === 'running';
}

/** True when a string is an RFC 3339 date-time (as chrono reads and writes them). */
export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * A sortable key for an RFC 3339 time: nanoseconds since the epoch (chrono writes up to 9
 * fractional digits; plain string order would be wrong for `...53Z` vs `...53.001Z` and across
 * offsets). Undefined when the string is not such a time.
 */
export function timeKey(value: string): bigint | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const frac = m[1] ?? '';
  const wholeMs = Date.parse(frac ? value.replace(`.${frac}`, '') : value);
  if (Number.isNaN(wholeMs)) return undefined;
  return BigInt(wholeMs) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
}

function fail(message: string): never {
  throw new InvalidSessionRecordError(message);
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (v === undefined) fail(`missing field '${key}'`);
  return typeof v === 'string' ? v : fail(`field '${key}' must be a string`);
}

function time(o: Record<string, unknown>, key: string): string {
  const v = str(o, key);
  return isRfc3339(v) ? v : fail(`field '${key}' is not an RFC 3339 time`);
}

function optionalStr(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : fail(`field '${key}' must be a string or null`);
}

function optionalTime(o: Record<string, unknown>, key: string): string | null {
  const v = optionalStr(o, key);
  return v === null || isRfc3339(v) ? v : fail(`field '${key}' is not an RFC 3339 time`);
}

function strArray(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined) fail(`missing field '${key}'`);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return fail(`field '${key}' must be a list of strings`);
}

function optionalInt(o: Record<string, unknown>, key: string, min: number): number | null {
  const v = o[key];
  if (v === null) return null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) return v;
  return fail(`field '${key}' must be an integer >= ${min} or null`);
}

/**
 * Builds a record from a parsed JSON value with the rules of mino 1.6's serde (plus checks of
 * our own fields). Throws an {@link InvalidSessionRecordError} naming the bad field. Validation
 * is hand-written, not zod: `mino list` checks every session file on each call.
 */
export function sessionRecordFromJson(raw: unknown): SessionRecord {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('not a JSON object');
  const o = raw as Record<string, unknown>;
  const id = str(o, 'id');
  if (!UUID.test(id)) fail("field 'id' is not a UUID");
  const status = str(o, 'status');
  if (!(SESSION_STATUSES as readonly string[]).includes(status)) fail(`unknown status '${status}'`);
  const record: SessionRecord = {
    id,
    name: str(o, 'name'),
    project_dir: str(o, 'project_dir'),
    command: strArray(o, 'command'),
    container_id: optionalStr(o, 'container_id'),
    status: status as SessionStatus,
    created_at: time(o, 'created_at'),
    updated_at: time(o, 'updated_at'),
    cloud_providers: strArray(o, 'cloud_providers'),
    home_volume: optionalStr(o, 'home_volume'),
  };
  if (o.exit_code !== undefined) record.exit_code = optionalInt(o, 'exit_code', Number.MIN_SAFE_INTEGER);
  if (o.owner_pid !== undefined) record.owner_pid = optionalInt(o, 'owner_pid', 1);
  if (o.mode !== undefined) record.mode = str(o, 'mode');
  if (o.network !== undefined) record.network = str(o, 'network');
  if (o.engine !== undefined) record.engine = str(o, 'engine');
  if (o.prelude !== undefined) {
    if (typeof o.prelude !== 'boolean') fail("field 'prelude' must be true or false");
    record.prelude = o.prelude;
  }
  if (o.attached_by !== undefined) record.attached_by = optionalStr(o, 'attached_by');
  for (const key of ['detached_at', 'suspended_at', 'last_output_at'] as const) {
    if (o[key] !== undefined) record[key] = optionalTime(o, key);
  }
  if (o.branch !== undefined) record.branch = str(o, 'branch');
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(o)) {
    if (KNOWN.has(key)) continue;
    // A null-prototype object: a field named `__proto__` is then an ordinary key.
    extra ??= Object.create(null) as Record<string, unknown>;
    extra[key] = o[key];
  }
  if (extra) record.extra = extra;
  return record;
}

/** Parses a session file's text; throws SyntaxError or {@link InvalidSessionRecordError}. */
export function parseSessionRecord(text: string): SessionRecord {
  return sessionRecordFromJson(JSON.parse(text));
}

/**
 * Serializes a record as pretty JSON (2-space indent like serde_json): mino 1.6's fields in its
 * order, then ours, then the preserved unknown fields, and a final newline.
 */
export function serializeSessionRecord(record: SessionRecord): string {
  const out = Object.create(null) as Record<string, unknown>;
  out.id = record.id;
  out.name = record.name;
  out.project_dir = record.project_dir;
  out.command = record.command;
  out.container_id = record.container_id;
  out.status = record.status;
  out.created_at = record.created_at;
  out.updated_at = record.updated_at;
  out.cloud_providers = record.cloud_providers;
  out.home_volume = record.home_volume;
  if (record.exit_code !== undefined) out.exit_code = record.exit_code;
  if (record.owner_pid !== undefined) out.owner_pid = record.owner_pid;
  if (record.mode !== undefined) out.mode = record.mode;
  if (record.network !== undefined) out.network = record.network;
  if (record.engine !== undefined) out.engine = record.engine;
  if (record.prelude !== undefined) out.prelude = record.prelude;
  for (const key of ['attached_by', 'detached_at', 'suspended_at', 'last_output_at'] as const) {
    if (record[key] !== undefined) out[key] = record[key];
  }
  if (record.branch !== undefined) out.branch = record.branch;
  if (record.extra) {
    for (const key of Object.keys(record.extra)) if (!KNOWN.has(key)) out[key] = record.extra[key];
  }
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
  homeVolume?: string | null;
  /** Network mode (`bridge`, `host`, `none`, `allowlist`, `learn`). */
  network?: string;
  /** Credential providers that delivered (names only; mino 1.6's `cloud_providers`). */
  providers?: readonly string[];
  /** The command runs through the session prelude. */
  prelude?: boolean;
  /** Branch NAME of a branch session. */
  branch?: string;
  /** The registered engine it runs on (undefined: this machine's). */
  engine?: string;
}

/**
 * A fresh record with both timestamps set to `now` and a new UUID v7 (time-ordered: its first 48
 * bits are `now` in milliseconds, the rest random), which mino 1.6 reads like its own v4 ids.
 */
export function newSessionRecord(input: NewSession, now = new Date()): SessionRecord {
  const at = now.toISOString();
  return {
    id: uuidv7({ msecs: now.getTime() }),
    name: input.name,
    project_dir: input.projectDir,
    command: input.command,
    container_id: input.containerId,
    status: input.status,
    created_at: at,
    updated_at: at,
    cloud_providers: [...(input.providers ?? [])],
    home_volume: input.homeVolume ?? null,
    exit_code: null,
    owner_pid: input.ownerPid,
    mode: input.mode,
    ...(input.network === undefined ? {} : { network: input.network }),
    ...(input.engine === undefined ? {} : { engine: input.engine }),
    ...(input.prelude ? { prelude: true } : {}),
    ...(input.branch === undefined ? {} : { branch: input.branch }),
  };
}
