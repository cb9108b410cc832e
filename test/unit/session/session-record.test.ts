import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  InvalidSessionRecordError,
  isActive,
  isRfc3339,
  newSessionRecord,
  parseSessionRecord,
  serializeSessionRecord,
  sessionRecordFromJson,
  timeKey,
} from '../../../src/session/session-record.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/sessions/${name}`, import.meta.url), 'utf8');

const RUNNING = fixture('mino-1.6-running.json');
const NATIVE = fixture('mino-1.6-native-stopped.json');

function base(): Record<string, unknown> {
  return JSON.parse(RUNNING) as Record<string, unknown>;
}

function invalid(raw: unknown): string {
  try {
    sessionRecordFromJson(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSessionRecordError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('reading mino 1.6 files', () => {
  it('reads every field of a container session', () => {
    const r = parseSessionRecord(RUNNING);
    expect(r).toEqual({
      id: '6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b',
      name: 'fix-auth',
      project_dir: '/home/dev/projects/webapp',
      command: ['claude', '--continue'],
      container_id: '3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8',
      status: 'running',
      created_at: '2025-03-14T09:26:53.589793238Z',
      updated_at: '2025-03-14T09:26:55.123456789Z',
      cloud_providers: [],
      home_volume: 'mino-home-4b1d2c3e5f60',
    });
  });

  it('writes a mino 1.6 record back byte for byte (plus a final newline)', () => {
    expect(serializeSessionRecord(parseSessionRecord(RUNNING))).toBe(`${RUNNING}\n`);
  });

  it('keeps fields it does not know, in their order, after the known ones', () => {
    const r = parseSessionRecord(NATIVE);
    expect(r.extra).toEqual({
      runtime_mode: 'native',
      process_id: 48213,
      log_file: '/Users/dev/Library/Application Support/mino/logs/native-task.log',
      sandbox_user: '_mino_agent',
    });
    expect(serializeSessionRecord(r)).toBe(`${NATIVE}\n`);
    const updated = serializeSessionRecord({ ...r, status: 'failed', exit_code: 3 });
    expect(Object.keys(JSON.parse(updated) as object)).toEqual([
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
      'runtime_mode',
      'process_id',
      'log_file',
      'sandbox_user',
    ]);
  });

  it('treats a missing container_id or home_volume as null (serde Option / #[serde(default)])', () => {
    const raw = base();
    delete raw.container_id;
    delete raw.home_volume;
    const r = sessionRecordFromJson(raw);
    expect(r.container_id).toBeNull();
    expect(r.home_volume).toBeNull();
    expect(serializeSessionRecord(r)).toContain('"home_volume": null');
  });

  it.each(['id', 'name', 'project_dir', 'command', 'status', 'created_at', 'updated_at', 'cloud_providers'])(
    'rejects a file without %s, as serde does',
    (field) => {
      const raw = base();
      delete raw[field];
      expect(invalid(raw)).toBe(`missing field '${field}'`);
    },
  );

  it.each([
    ['status', 'paused', "unknown status 'paused'"],
    ['status', 'Running', "unknown status 'Running'"],
    ['id', 'not-a-uuid', "field 'id' is not a UUID"],
    ['created_at', '14/03/2025', "field 'created_at' is not an RFC 3339 time"],
    ['updated_at', '2025-03-14T09:26:55', "field 'updated_at' is not an RFC 3339 time"],
    ['command', 'claude', "field 'command' must be a list of strings"],
    ['command', [1], "field 'command' must be a list of strings"],
    ['container_id', 42, "field 'container_id' must be a string or null"],
    ['exit_code', 1.5, "field 'exit_code' must be an integer"],
    ['exit_code', '0', "field 'exit_code' must be an integer"],
    ['owner_pid', 0, "field 'owner_pid' must be an integer >= 1 or null"],
    ['mode', 3, "field 'mode' must be a string"],
  ])('rejects %s = %j', (field, value, message) => {
    expect(invalid({ ...base(), [field]: value })).toContain(message);
  });

  it('rejects what is not a JSON object', () => {
    expect(invalid([])).toBe('not a JSON object');
    expect(invalid(null)).toBe('not a JSON object');
    expect(() => parseSessionRecord('{"id": ')).toThrow(SyntaxError);
  });

  it('keeps a field named __proto__ as plain data', () => {
    const text = RUNNING.replace('"home_volume"', '"__proto__": {"polluted": true},\n  "home_volume"');
    const r = parseSessionRecord(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(r.extra ?? {})).toEqual(['__proto__']);
    const written = JSON.parse(serializeSessionRecord(r)) as object;
    expect(Object.getOwnPropertyDescriptor(written, '__proto__')?.value).toEqual({ polluted: true });
  });
});

describe('files we write', () => {
  const record = newSessionRecord(
    {
      name: 'demo',
      projectDir: '/srv/app',
      command: ['bash'],
      containerId: 'mino-demo',
      status: 'starting',
      ownerPid: 4242,
      mode: 'shell',
    },
    new Date('2026-01-02T03:04:05.678Z'),
  );

  it('carry every field mino 1.6 requires, with serde types, plus ours', () => {
    const raw = JSON.parse(serializeSessionRecord(record)) as Record<string, unknown>;
    // A UUID v7 whose first 48 bits are the creation time in milliseconds.
    expect(raw.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(String(raw.id).replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2026-01-02T03:04:05.678Z'));
    expect(raw).toEqual({
      id: raw.id,
      name: 'demo',
      project_dir: '/srv/app',
      command: ['bash'],
      container_id: 'mino-demo',
      status: 'starting',
      created_at: '2026-01-02T03:04:05.678Z',
      updated_at: '2026-01-02T03:04:05.678Z',
      cloud_providers: [],
      home_volume: null,
      exit_code: null,
      owner_pid: 4242,
      mode: 'shell',
    });
    expect(parseSessionRecord(serializeSessionRecord(record))).toEqual(record);
  });

  it('get a new id every time, even within one millisecond', () => {
    const again = newSessionRecord({
      name: 'demo',
      projectDir: '/',
      command: [],
      containerId: null,
      status: 'starting',
      ownerPid: 1,
      mode: 'command',
    });
    expect(again.id).not.toBe(record.id);
    const at = new Date('2026-01-02T03:04:05.678Z');
    const ids = new Set(
      Array.from(
        { length: 1000 },
        () =>
          newSessionRecord(
            {
              name: 'x',
              projectDir: '/',
              command: [],
              containerId: null,
              status: 'starting',
              ownerPid: 1,
              mode: 'command',
            },
            at,
          ).id,
      ),
    );
    expect(ids.size).toBe(1000);
  });

  it('get ids that sort by creation time (v7), across milliseconds', () => {
    const make = (iso: string): string =>
      newSessionRecord(
        {
          name: 'x',
          projectDir: '/',
          command: [],
          containerId: null,
          status: 'starting',
          ownerPid: 1,
          mode: 'command',
        },
        new Date(iso),
      ).id;
    const ids = [
      '2025-12-31T23:59:59.999Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.001Z',
      '2031-07-01T00:00:00.000Z',
    ].map(make);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('helpers', () => {
  it('isActive is true for starting and running only', () => {
    expect(
      ['starting', 'running', 'stopped', 'failed'].map((status) => isActive({ status: status as 'running' })),
    ).toEqual([true, true, false, false]);
  });

  it('isRfc3339 accepts chrono and JavaScript times, with offsets', () => {
    for (const t of ['2025-03-14T09:26:53.589793238Z', '2025-03-14T09:26:53Z', '2025-03-14T10:26:53+01:00'])
      expect(isRfc3339(t)).toBe(true);
    for (const t of ['2025-03-14', '2025-03-14T09:26:53', '2025-13-14T09:26:53Z', 'yesterday'])
      expect(isRfc3339(t)).toBe(false);
  });

  it('timeKey orders by instant, down to nanoseconds and across offsets', () => {
    const times = [
      '2025-03-14T09:26:53Z',
      '2025-03-14T09:26:53.000000001Z',
      '2025-03-14T09:26:53.0005Z',
      '2025-03-14T09:26:53.001Z',
      '2025-03-14T10:26:54+01:00',
    ];
    const keys = times.map((t) => timeKey(t)!);
    expect([...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(keys);
    expect(new Set(keys).size).toBe(times.length);
    // As plain strings, '53Z' would sort after '53.001Z'.
    expect([...times].sort()).not.toEqual(times);
    expect(timeKey('2025-03-14T09:26:53.589793238Z')).toBe(1741944413589793238n);
    expect(timeKey('not a time')).toBeUndefined();
  });
});

describe('the network field (ours)', () => {
  it('is written after mode and read back', async () => {
    const { newSessionRecord, parseSessionRecord, serializeSessionRecord } = await import(
      '../../../src/session/session-record.js'
    );
    const r = newSessionRecord({
      name: 'n',
      projectDir: '/p',
      command: ['true'],
      containerId: null,
      status: 'starting',
      ownerPid: 5,
      mode: 'command',
      network: 'allowlist',
    });
    const text = serializeSessionRecord(r);
    expect(text).toMatch(/"mode": "command",\n {2}"network": "allowlist"\n}/);
    expect(parseSessionRecord(text).network).toBe('allowlist');
    expect(() => parseSessionRecord(text.replace('"allowlist"', '7'))).toThrow("field 'network' must be a string");
  });
});

describe('the branch field (ours)', () => {
  it('is written for branch sessions only and read back', () => {
    const input = {
      name: 'n',
      projectDir: '/data/mino/branches/k/fix/p',
      command: ['true'],
      containerId: null,
      status: 'starting' as const,
      ownerPid: 5,
      mode: 'command',
    };
    const text = serializeSessionRecord(newSessionRecord({ ...input, branch: 'fix' }));
    expect(parseSessionRecord(text).branch).toBe('fix');
    expect(parseSessionRecord(text).extra).toBeUndefined();
    expect(serializeSessionRecord(newSessionRecord(input))).not.toContain('"branch"');
    expect(() => parseSessionRecord(text.replace('"fix"', '1'))).toThrow("field 'branch' must be a string");
  });
});
