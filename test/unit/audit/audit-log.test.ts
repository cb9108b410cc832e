import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, redactText, sanitizeAuditData, type AuditData } from '../../../src/audit/audit-log.js';

const IS_ROOT = process.getuid?.() === 0;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-audit-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

interface Line {
  timestamp: string;
  event: string;
  data: Record<string, unknown>;
}

function lines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** An onError spy that remembers the errors. */
function errors(): { onError: (err: unknown) => void; seen: NodeJS.ErrnoException[] } {
  const seen: NodeJS.ErrnoException[] = [];
  return { onError: (err) => seen.push(err as NodeJS.ErrnoException), seen };
}

describe('redactText', () => {
  it('masks the value of a secret-looking NAME=value and keeps the name', () => {
    expect(redactText('API_TOKEN=hunter2')).toBe('API_TOKEN=***');
  });

  it('masks inside a longer text and leaves plain assignments alone', () => {
    expect(redactText('podman run -e GITHUB_TOKEN=ghp_abc123 -e TERM=xterm -e HOME=/root img')).toBe(
      'podman run -e GITHUB_TOKEN=*** -e TERM=xterm -e HOME=/root img',
    );
  });

  it.each([
    ['--token=abc', '--token=***'],
    ['--api-key=sk-123', '--api-key=***'],
    ['--password=pw', '--password=***'],
    ['db_password=pw', 'db_password=***'],
    ['AWS_SECRET_ACCESS_KEY=wJal/K7MDENG+bPxRfiCY', 'AWS_SECRET_ACCESS_KEY=***'],
    ['GOOGLE_APPLICATION_CREDENTIALS=/k.json', 'GOOGLE_APPLICATION_CREDENTIALS=***'],
    ['https://api.example/?access_token=abc', 'https://api.example/?access_token=***'],
  ])('masks %s', (text, want) => {
    expect(redactText(text)).toBe(want);
  });

  it('masks every secret in a line and only up to the end of each value', () => {
    expect(redactText('A_TOKEN=1 B=2 C_SECRET=3 tail')).toBe('A_TOKEN=*** B=2 C_SECRET=*** tail');
  });

  it('keeps text without secret assignments unchanged', () => {
    for (const t of ['', 'exit code 3', '--name=web', 'x=1 y=2', 'TOKEN', 'a == b', 'mino-web: no such container']) {
      expect(redactText(t)).toBe(t);
    }
  });

  it.each([
    ['API_TOKEN="hunter two"', 'API_TOKEN=***'],
    ["API_TOKEN='hunter2'", 'API_TOKEN=***'],
    ['sh -c "export DB_PASSWORD=\'hunter two\'; run"', 'sh -c "export DB_PASSWORD=*** run"'],
    ['API_TOKEN="unterminated hunter', 'API_TOKEN=***'],
  ])('masks a quoted value whole: %s', (text, want) => {
    expect(redactText(text)).toBe(want);
    expect(redactText(text)).not.toMatch(/hunter/);
  });

  it.each([
    ['--env=API_TOKEN=hunter2', '--env=API_TOKEN=***'],
    ['-e=GH_TOKEN=hunter2', '-e=GH_TOKEN=***'],
    ['FOO=BAR_SECRET=hunter2', 'FOO=BAR_SECRET=***'],
  ])('masks a secret assignment inside the value of a plain one: %s', (text, want) => {
    expect(redactText(text)).toBe(want);
  });

  it('handles long chains of assignments without running out of stack', () => {
    const text = `FOO=${'BAR='.repeat(20_000)}API_TOKEN=hunter2 tail`;
    const out = redactText(text);
    expect(out.endsWith('API_TOKEN=*** tail')).toBe(true);
    expect(out).toHaveLength(text.length - 'hunter2'.length + 3);
    expect(redactText('A='.repeat(50_000))).toBe('A='.repeat(50_000));
  });

  it('is idempotent', () => {
    const text = 'run --env=API_TOKEN=x -e PASSWORD="a b" HOME=/h';
    expect(redactText(redactText(text))).toBe(redactText(text));
  });
});

describe('sanitizeAuditData', () => {
  it('keeps lower snake_case scalars and string lists', () => {
    const data = { name: 'web', exit_code: 3, detached: false, home_volume: null, command: ['sh', '-c', 'true'] };
    expect(sanitizeAuditData(data)).toEqual(data);
  });

  it('drops the upper-case keys of a spread environment map', () => {
    const env = { HOME: '/root', PATH: '/usr/bin', API_TOKEN: 'hunter2', Path: 'x' };
    expect(sanitizeAuditData({ name: 'web', ...env })).toEqual({ name: 'web' });
  });

  it.each(['camelCase', 'with-dash', 'with.dot', '_leading', '9lives', '', 'ünïcode', '__proto__', 'a b'])(
    'drops key %j',
    (key) => {
      const data = JSON.parse(JSON.stringify({ [key]: 'v', name: 'web' })) as AuditData;
      const out = sanitizeAuditData(data);
      expect(Object.keys(out)).toEqual(['name']);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    },
  );

  it('masks the value of secret-looking keys, whatever its type', () => {
    expect(
      sanitizeAuditData({ token: 'hunter2', api_key: 42, password: ['a', 'b'], client_secret: null, auth: true }),
    ).toEqual({ token: '***', api_key: '***', password: '***', client_secret: '***', auth: '***' });
  });

  it('masks secret NAME=value inside strings and inside string lists', () => {
    expect(
      sanitizeAuditData({
        error: "podman: invalid -e API_TOKEN=hunter2 (see 'podman run --help')",
        command: ['env', 'GH_TOKEN=hunter2', 'LANG=C', 'gh', 'auth', 'status'],
      }),
    ).toEqual({
      error: "podman: invalid -e API_TOKEN=*** (see 'podman run --help')",
      command: ['env', 'GH_TOKEN=***', 'LANG=C', 'gh', 'auth', 'status'],
    });
  });

  it('turns non-finite numbers into null', () => {
    expect(
      sanitizeAuditData({ a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY, d: -1, e: 0.5 }),
    ).toEqual({ a: null, b: null, c: null, d: -1, e: 0.5 });
  });

  it('drops nested objects (an env map as a value), mixed lists and other types', () => {
    const data = {
      env: { API_TOKEN: 'hunter2' },
      mixed: ['a', 1],
      nested: [['a']],
      undef: undefined,
      fn: () => 'hunter2',
      big: 10n,
      date: new Date(0),
      name: 'web',
    } as unknown as AuditData;
    expect(sanitizeAuditData(data)).toEqual({ name: 'web' });
  });

  it('does not modify its input', () => {
    const data = { name: 'web', token: 'hunter2', command: ['API_TOKEN=x'], HOME: '/root' };
    const copy = structuredClone(data);
    sanitizeAuditData(data);
    expect(data).toEqual(copy);
  });
});

describe('AuditLog', () => {
  it('lives at <stateDir>/audit.log and is enabled by default', () => {
    const log = new AuditLog(dir);
    expect(log.path).toBe(join(dir, 'audit.log'));
    expect(log.enabled).toBe(true);
  });

  it('writes one JSON line {timestamp, event, data} per event, in that key order', () => {
    const log = new AuditLog(dir);
    const before = Date.now();
    expect(log.record('session.created', { name: 'web', project_dir: '/srv/app', command: ['bash'] })).toBe(true);
    const text = readFileSync(log.path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
    const [line] = lines(log.path);
    expect(Object.keys(line!)).toEqual(['timestamp', 'event', 'data']);
    expect(line!.event).toBe('session.created');
    expect(line!.data).toEqual({ name: 'web', project_dir: '/srv/app', command: ['bash'] });
    expect(line!.timestamp).toMatch(RFC3339_UTC);
    const at = Date.parse(line!.timestamp);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('appends events in order and keeps what the file already held', () => {
    const path = join(dir, 'audit.log');
    writeFileSync(path, '{"timestamp":"2024-01-01T00:00:00Z","event":"session.created","data":{}}\n', { mode: 0o600 });
    const log = new AuditLog(dir);
    log.record('session.started', { name: 'web', container_id: 'mino-web' });
    log.record('session.stopped', { name: 'web', exit_code: 0 });
    new AuditLog(dir).record('session.reconciled', {
      name: 'bg',
      from: 'running',
      to: 'stopped',
      exit_code: 6,
      reason: 'container exited',
    });
    expect(lines(path).map((l) => l.event)).toEqual([
      'session.created',
      'session.started',
      'session.stopped',
      'session.reconciled',
    ]);
    expect(lines(path)[3]!.data).toEqual({
      name: 'bg',
      from: 'running',
      to: 'stopped',
      exit_code: 6,
      reason: 'container exited',
    });
  });

  it('records an event without data as data {}', () => {
    const log = new AuditLog(dir);
    log.record('session.failed');
    expect(lines(log.path)[0]!.data).toEqual({});
  });

  it('never writes secret values', () => {
    const log = new AuditLog(dir);
    log.record('session.failed', {
      name: 'web',
      error: 'bad -e API_TOKEN=hunter2',
      token: 'hunter2',
      command: ['sh', '-c', 'GH_TOKEN=hunter2 gh auth status', '--password=hunter2'],
      ...({ API_TOKEN: 'hunter2', HOME: '/root' } as AuditData),
    });
    const text = readFileSync(log.path, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('HOME');
    expect(lines(log.path)[0]!.data).toMatchObject({ name: 'web', token: '***', error: 'bad -e API_TOKEN=***' });
  });

  it('creates the file with mode 0600 even under umask 000', () => {
    const old = process.umask(0);
    try {
      new AuditLog(dir).record('session.created', { name: 'web' });
    } finally {
      process.umask(old);
    }
    expect(mode(join(dir, 'audit.log'))).toBe(0o600);
  });

  it.each([0o644, 0o666, 0o640, 0o604, 0o777])(
    'narrows an existing file of mode %o to 0600, keeping its content',
    (wide) => {
      const path = join(dir, 'audit.log');
      writeFileSync(path, 'old\n');
      chmodSync(path, wide);
      expect(new AuditLog(dir).record('session.created', { name: 'web' })).toBe(true);
      expect(mode(path)).toBe(0o600);
      expect(readFileSync(path, 'utf8').startsWith('old\n')).toBe(true);
    },
  );

  it('leaves an existing 0600 file at 0600', () => {
    const path = join(dir, 'audit.log');
    writeFileSync(path, '', { mode: 0o600 });
    new AuditLog(dir).record('session.created', { name: 'web' });
    expect(mode(path)).toBe(0o600);
  });

  it('creates a missing state directory with mode 0700', () => {
    const state = join(dir, 'state', 'mino');
    const old = process.umask(0);
    try {
      expect(new AuditLog(state).record('session.created', { name: 'web' })).toBe(true);
    } finally {
      process.umask(old);
    }
    expect(mode(state)).toBe(0o700);
    expect(lines(join(state, 'audit.log'))).toHaveLength(1);
  });

  it('refuses a symlink at the log path: nothing is written through it', () => {
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'precious\n', { mode: 0o644 });
    const state = join(dir, 'state');
    mkdirSync(state);
    symlinkSync(target, join(state, 'audit.log'));
    const { onError, seen } = errors();
    expect(new AuditLog(state, { onError }).record('session.created', { name: 'web' })).toBe(false);
    expect(seen.map((e) => e.code)).toEqual(['ELOOP']);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(mode(target)).toBe(0o644);
    expect(lstatSync(join(state, 'audit.log')).isSymbolicLink()).toBe(true);
  });

  it('refuses a dangling symlink: its target is not created', () => {
    const target = join(dir, 'planted');
    const state = join(dir, 'state');
    mkdirSync(state);
    symlinkSync(target, join(state, 'audit.log'));
    const { onError, seen } = errors();
    expect(new AuditLog(state, { onError }).record('session.created', { name: 'web' })).toBe(false);
    expect(seen).toHaveLength(1);
    expect(existsSync(target)).toBe(false);
  });

  it('reports a directory at the log path to onError', () => {
    mkdirSync(join(dir, 'audit.log'));
    const { onError, seen } = errors();
    expect(new AuditLog(dir, { onError }).record('session.created', { name: 'web' })).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('reports an unusable state directory to onError and never throws', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const { onError, seen } = errors();
    const log = new AuditLog(join(file, 'mino'), { onError });
    expect(() => log.record('session.created', { name: 'web' })).not.toThrow();
    expect(log.record('session.created', { name: 'web' })).toBe(false);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeInstanceOf(Error);
    expect(seen[0]!.code).toMatch(/^(ENOTDIR|EEXIST)$/);
  });

  it('stays quiet without onError and survives an onError that throws', () => {
    mkdirSync(join(dir, 'audit.log'));
    expect(new AuditLog(dir).record('session.created', { name: 'web' })).toBe(false);
    const throwing = vi.fn(() => {
      throw new Error('callback broke');
    });
    expect(new AuditLog(dir, { onError: throwing }).record('session.created', { name: 'web' })).toBe(false);
    expect(throwing).toHaveBeenCalledOnce();
  });

  it.skipIf(IS_ROOT)('reports a state directory it may not write to', () => {
    chmodSync(dir, 0o500);
    try {
      const { onError, seen } = errors();
      expect(new AuditLog(dir, { onError }).record('session.created', { name: 'web' })).toBe(false);
      expect(seen.map((e) => e.code)).toEqual(['EACCES']);
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('writes nothing, creates nothing and succeeds when disabled', () => {
    const state = join(dir, 'state');
    const log = new AuditLog(state, { enabled: false });
    expect(log.enabled).toBe(false);
    expect(log.record('session.created', { name: 'web' })).toBe(true);
    expect(existsSync(state)).toBe(false);
  });

  it('accepts the older (stateDir, enabled, onError) form', () => {
    const off = new AuditLog(join(dir, 'off'), false);
    expect(off.enabled).toBe(false);
    off.record('session.created', { name: 'web' });
    expect(existsSync(join(dir, 'off'))).toBe(false);

    mkdirSync(join(dir, 'audit.log'));
    const { onError, seen } = errors();
    const on = new AuditLog(dir, true, onError);
    expect(on.enabled).toBe(true);
    expect(on.record('session.created', { name: 'web' })).toBe(false);
    expect(seen).toHaveLength(1);
  });
});

/**
 * Several processes: the AuditLog from the TypeScript sources is bundled (esbuild, as in
 * session-store-race.test.ts) into a module that plain-JS child processes import.
 */
describe('AuditLog across processes', () => {
  let work: string;
  let bundle: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'mino-audit-procs-'));
    bundle = join(work, 'audit-log.mjs');
    buildSync({
      entryPoints: [fileURLToPath(new URL('../../../src/audit/audit-log.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile: bundle,
      logLevel: 'silent',
    });
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  function script(name: string, body: string): string {
    const path = join(work, name);
    writeFileSync(path, `import { AuditLog } from ${JSON.stringify(bundle)};\n${body}\n`);
    return path;
  }

  it('never interleaves lines appended concurrently by several processes', async () => {
    const CHILDREN = 6;
    const EACH = 300;
    const state = join(work, 'state');
    // Long lines (~6 KiB, above a pipe's atomic size) make torn or interleaved writes likely.
    const child = script(
      'append-child.mjs',
      `
const [state, who, count, startAt] = process.argv.slice(2);
const log = new AuditLog(state, { onError: (e) => { console.error(String(e)); process.exitCode = 3; } });
const filler = String(who).repeat(6000);
while (Date.now() < Number(startAt)) { /* start together */ }
for (let i = 0; i < Number(count); i++) {
  if (!log.record('session.created', { name: 'c' + who, seq: i, command: ['sh', '-c', filler] })) process.exitCode = 4;
}`,
    );
    const startAt = Date.now() + 1500;
    const codes = await Promise.all(
      Array.from(
        { length: CHILDREN },
        (_, who) =>
          new Promise<number | null>((resolve, reject) => {
            const p = spawn(process.execPath, [child, state, String(who), String(EACH), String(startAt)], {
              stdio: ['ignore', 'inherit', 'inherit'],
            });
            p.once('error', reject);
            p.once('exit', (code) => resolve(code));
          }),
      ),
    );
    expect(codes).toEqual(Array<number>(CHILDREN).fill(0));

    const text = readFileSync(join(state, 'audit.log'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const raw = text.slice(0, -1).split('\n');
    expect(raw).toHaveLength(CHILDREN * EACH);
    const bad: string[] = [];
    const seqs = new Map<string, number[]>();
    for (const [n, l] of raw.entries()) {
      let parsed: Line;
      try {
        parsed = JSON.parse(l) as Line;
      } catch {
        bad.push(`line ${n + 1}: ${l.slice(0, 80)}…`);
        continue;
      }
      const who = String(parsed.data.name).slice(1);
      if ((parsed.data.command as string[])[2] !== who.repeat(6000))
        bad.push(`line ${n + 1}: foreign bytes in ${String(parsed.data.name)}`);
      seqs.set(who, [...(seqs.get(who) ?? []), parsed.data.seq as number]);
    }
    expect(bad).toEqual([]);
    // Every process's lines are all there, each once, in the order it wrote them.
    for (let who = 0; who < CHILDREN; who++) {
      expect(seqs.get(String(who))).toEqual(Array.from({ length: EACH }, (_, i) => i));
    }
    expect(mode(join(state, 'audit.log'))).toBe(0o600);
  }, 60_000);

  it('refuses a FIFO at the log path instead of blocking forever', () => {
    const state = join(work, 'fifo-state');
    mkdirSync(state);
    const made = spawnSync('mkfifo', [join(state, 'audit.log')]);
    expect(made.status).toBe(0);
    const child = script(
      'fifo-child.mjs',
      `
const codes = [];
const ok = new AuditLog(process.argv[2], { onError: (e) => codes.push(e.code ?? String(e)) }).record('session.created', { name: 'web' });
process.stdout.write(JSON.stringify({ ok, codes }));`,
    );
    const r = spawnSync(process.execPath, [child, state], { encoding: 'utf8', timeout: 10_000 });
    expect(r.signal, 'record() blocked opening the FIFO').toBeNull();
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; codes: string[] };
    expect(out.ok).toBe(false);
    expect(out.codes).toHaveLength(1);
  }, 30_000);
});
