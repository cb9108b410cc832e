import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import {
  newSessionRecord,
  serializeSessionRecord,
  type SessionRecord,
  type SessionStatus,
} from '../../../src/session/session-record.js';
import { SessionExistsError, SessionNotFoundError, SessionStore } from '../../../src/session/session-store.js';
import { thrown } from '../../helpers/thrown.js';

const FIXTURES = new URL('../../fixtures/sessions/', import.meta.url);

let stateDir: string;
let store: SessionStore;
let sessionsDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'mino-session-store-'));
  store = new SessionStore(stateDir);
  sessionsDir = join(stateDir, 'sessions');
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

function record(name: string, status: SessionStatus = 'starting', createdAt = new Date()): SessionRecord {
  return newSessionRecord(
    {
      name,
      projectDir: '/srv/app',
      command: ['bash'],
      containerId: `mino-${name}`,
      status,
      ownerPid: process.pid,
      mode: 'shell',
    },
    createdAt,
  );
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function copyFixture(file: string, as: string): string {
  mkdirSync(sessionsDir, { recursive: true });
  const path = join(sessionsDir, as);
  copyFileSync(new URL(file, FIXTURES), path);
  return path;
}

describe('create', () => {
  it('writes <state>/sessions/<name>.json with modes 0700 and 0600', () => {
    const r = record('demo');
    store.create(r);
    const path = join(sessionsDir, 'demo.json');
    expect(readFileSync(path, 'utf8')).toBe(serializeSessionRecord(r));
    expect(mode(sessionsDir)).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(store.get('demo')).toEqual(r);
    expect(readdirSync(sessionsDir)).toEqual(['demo.json']);
  });

  it('narrows an existing sessions directory to 0700 (mino 1.6 creates it with the umask)', () => {
    mkdirSync(sessionsDir, { recursive: true });
    chmodSync(sessionsDir, 0o755);
    store.create(record('demo'));
    expect(mode(sessionsDir)).toBe(0o700);
  });

  it('refuses a name held by an active session and leaves its file alone (O_EXCL)', () => {
    const first = record('demo', 'running');
    store.create(first);
    const err = thrown(() => store.create(record('demo')));
    expect(err).toBeInstanceOf(SessionExistsError);
    expect(err.message).toBe("Session 'demo' already exists and is running");
    expect((err as MinoError).hint).toBe("Stop it with 'mino stop demo', or choose another name with -n");
    expect(store.get('demo')?.id).toBe(first.id);
    expect(readdirSync(sessionsDir)).toEqual(['demo.json']);
  });

  it('refuses a name held by a running mino 1.6 session', () => {
    const path = copyFixture('mino-1.6-running.json', 'fix-auth.json');
    const before = readFileSync(path, 'utf8');
    expect(() => store.create(record('fix-auth'))).toThrow(SessionExistsError);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it.each(['stopped', 'failed'] as const)('reuses the name of a %s session, replacing its file', (status) => {
    const old = record('demo', status);
    store.create(old);
    const next = record('demo');
    store.create(next);
    expect(store.get('demo')).toEqual(next);
    expect(next.id).not.toBe(old.id);
    expect(mode(join(sessionsDir, 'demo.json'))).toBe(0o600);
    expect(readdirSync(sessionsDir)).toEqual(['demo.json']); // no lock or temporary left
  });

  it('reuses the name of a stopped mino 1.6 session', () => {
    copyFixture('mino-1.6-native-stopped.json', 'native-task.json');
    const next = record('native-task');
    store.create(next);
    expect(store.get('native-task')).toEqual(next);
  });

  it('refuses to replace a corrupt file and leaves it for a person to look at', () => {
    mkdirSync(sessionsDir, { recursive: true });
    writeFileSync(join(sessionsDir, 'demo.json'), '{"id": ');
    const err = thrown(() => store.create(record('demo')));
    expect(err).toBeInstanceOf(MinoError);
    expect(err.message).toMatch(/^Session file .*demo\.json is unreadable: /);
    expect((err as MinoError).hint).toMatch(/delete it/);
    expect(readFileSync(join(sessionsDir, 'demo.json'), 'utf8')).toBe('{"id": ');
  });

  it('rejects an invalid name before touching the disk', () => {
    expect(() => store.create(record('../evil'))).toThrow(/^Invalid session name '\.\.\/evil'/);
    expect(existsSync(sessionsDir)).toBe(false);
  });

  it('refuses to write a record mino 1.6 could not read', () => {
    const bad = { ...record('demo'), created_at: 'yesterday' };
    expect(() => store.create(bad)).toThrow(/^Internal error: invalid session record for 'demo'/);
    expect(existsSync(join(sessionsDir, 'demo.json'))).toBe(false);
  });
});

describe('get / require', () => {
  it('returns undefined or throws SessionNotFoundError for a missing session', () => {
    expect(store.get('nope')).toBeUndefined();
    const err = thrown(() => store.require('nope'));
    expect(err).toBeInstanceOf(SessionNotFoundError);
    expect(err.message).toBe("Session 'nope' not found");
  });

  it('validates the name (no path traversal through get)', () => {
    expect(() => store.get('../audit')).toThrow(/^Invalid session name/);
  });
});

describe('update', () => {
  it('changes fields, bumps updated_at and keeps id and created_at', () => {
    const r = record('demo', 'starting', new Date('2026-01-01T00:00:00Z'));
    store.create(r);
    const next = store.update('demo', { status: 'stopped', exit_code: 3 });
    expect(next).toMatchObject({ id: r.id, created_at: r.created_at, status: 'stopped', exit_code: 3 });
    expect(next.updated_at > r.updated_at).toBe(true);
    expect(store.get('demo')).toEqual(next);
    expect(mode(join(sessionsDir, 'demo.json'))).toBe(0o600);
    expect(readdirSync(sessionsDir)).toEqual(['demo.json']);
  });

  it('preserves fields it does not know when rewriting a mino 1.6 file', () => {
    const path = copyFixture('mino-1.6-native-stopped.json', 'native-task.json');
    store.update('native-task', { status: 'failed', exit_code: 137 });
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(raw).toMatchObject({
      id: '0b7e4d2c-9f1a-4c3b-8e5d-6a7b8c9d0e1f',
      status: 'failed',
      exit_code: 137,
      created_at: '2025-03-13T18:02:11.004Z',
      runtime_mode: 'native',
      process_id: 48213,
      log_file: '/Users/dev/Library/Application Support/mino/logs/native-task.log',
      sandbox_user: '_mino_agent',
    });
  });

  it('with ifId, leaves a newer session of the same name alone', () => {
    const old = record('demo', 'stopped');
    store.create(old);
    const next = record('demo', 'running');
    store.create(next);
    expect(() => store.update('demo', { status: 'stopped' }, { ifId: old.id })).toThrow(SessionNotFoundError);
    expect(store.get('demo')).toEqual(next);
    expect(store.update('demo', { status: 'stopped' }, { ifId: next.id }).status).toBe('stopped');
  });

  it('throws SessionNotFoundError for a missing session', () => {
    expect(() => store.update('nope', { status: 'stopped' })).toThrow(SessionNotFoundError);
  });
});

describe('remove', () => {
  it('deletes the file and says whether there was one', () => {
    store.create(record('demo'));
    expect(store.remove('demo')).toBe(true);
    expect(store.get('demo')).toBeUndefined();
    expect(store.remove('demo')).toBe(false);
    expect(readdirSync(sessionsDir)).toEqual([]);
  });

  it('with ifId, keeps a newer session of the same name', () => {
    const r = record('demo');
    store.create(r);
    expect(store.remove('demo', { ifId: 'f0000000-0000-4000-8000-000000000000' })).toBe(false);
    expect(store.get('demo')).toEqual(r);
    expect(store.remove('demo', { ifId: r.id })).toBe(true);
  });
});

describe('list', () => {
  it('is empty without a sessions directory', () => {
    expect(store.list()).toEqual({ sessions: [], warnings: [], unreadable: [] });
  });

  it('lists newest first by created_at, mino 1.6 files included', () => {
    copyFixture('mino-1.6-running.json', 'fix-auth.json'); // 2025-03-14T09:26:53.589793238Z
    copyFixture('mino-1.6-native-stopped.json', 'native-task.json'); // 2025-03-13
    store.create(record('later', 'running', new Date('2025-03-14T09:26:53.590Z')));
    store.create(record('earlier', 'running', new Date('2025-03-14T09:26:53.589Z')));
    store.create(record('newest', 'stopped', new Date('2026-01-01T00:00:00Z')));
    const { sessions, warnings } = store.list();
    expect(sessions.map((s) => s.name)).toEqual(['newest', 'later', 'fix-auth', 'earlier', 'native-task']);
    expect(warnings).toEqual([]);
  });

  it('skips unreadable files with one warning each, never silently', () => {
    store.create(record('good'));
    writeFileSync(join(sessionsDir, 'corrupt.json'), '{"id": ');
    writeFileSync(join(sessionsDir, 'empty.json'), '');
    writeFileSync(join(sessionsDir, 'wrong.json'), JSON.stringify({ ...record('other') }));
    writeFileSync(join(sessionsDir, 'partial.json'), JSON.stringify({ name: 'partial' }));
    const { sessions, warnings } = store.list();
    expect(sessions.map((s) => s.name)).toEqual(['good']);
    expect(warnings).toHaveLength(4);
    const by = (file: string): string | undefined => warnings.find((w) => w.includes(`${file}.json:`));
    expect(by('corrupt')).toMatch(/^Skipping session file .*corrupt\.json: .*JSON/);
    expect(by('empty')).toMatch(/empty\.json: /);
    expect(by('wrong')).toMatch(/wrong\.json: it holds session 'other'$/);
    expect(by('partial')).toMatch(/partial\.json: missing field 'id'$/);
  });

  it('ignores hidden files, temporaries, locks and other extensions', () => {
    store.create(record('good'));
    for (const f of ['.good.lock', '.good.json.123.abcd.tmp', 'notes.txt', '.hidden.json'])
      writeFileSync(join(sessionsDir, f), 'x');
    expect(store.list()).toEqual({ sessions: [store.get('good')], warnings: [], unreadable: [] });
  });

  it('reads 1,000 session files, newest first', () => {
    mkdirSync(sessionsDir, { recursive: true });
    const t0 = Date.UTC(2025, 0, 1);
    for (let i = 0; i < 1000; i++) {
      const r = {
        ...record(`s-${i}`, i % 2 ? 'running' : 'stopped', new Date(t0 + i * 1000)),
        extra: { log_file: `/tmp/${i}.log` },
      };
      writeFileSync(join(sessionsDir, `s-${i}.json`), serializeSessionRecord(r));
    }
    // Its speed is measured by `npm run bench` (mino list -a with 1,000 sessions), not here.
    const { sessions, warnings } = store.list();
    expect(warnings).toEqual([]);
    expect(sessions).toHaveLength(1000);
    expect(sessions[0]?.name).toBe('s-999');
    expect(sessions[999]?.name).toBe('s-0');
  });
});
