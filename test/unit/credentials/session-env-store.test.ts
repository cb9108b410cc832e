import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionEnvStore, sessionEnvDir } from '../../../src/credentials/session-env-store.js';
import { thrown } from '../../helpers/thrown.js';

function store(): SessionEnvStore {
  return new SessionEnvStore(join(mkdtempSync(join(tmpdir(), 'mino-senv-')), 'a', 'session-env'));
}

describe('session env files on the host', () => {
  it('writes a file readable inside any container (0444) in a private 0700 directory', () => {
    const s = store();
    const path = s.write('web', "export A='1'\n");
    expect(path).toBe(s.pathOf('web'));
    expect(readFileSync(path, 'utf8')).toBe("export A='1'\n");
    expect(statSync(path).mode & 0o777).toBe(0o444);
    expect(statSync(s.dir).mode & 0o777).toBe(0o700);
  });

  it('replaces a leftover file of the same session and removes files and relay sockets', () => {
    const s = store();
    s.write('web', 'old');
    s.write('web', 'new');
    expect(readFileSync(s.pathOf('web'), 'utf8')).toBe('new');
    writeFileSync(s.relayPathOf('gone'), '');
    expect(s.sessions().sort()).toEqual(['gone', 'web']);
    s.remove('web');
    s.remove('web');
    expect(existsSync(s.pathOf('web'))).toBe(false);
  });

  it('reaps the files of sessions that are no longer active', () => {
    const s = store();
    s.write('live', 'x');
    s.write('dead', 'x');
    expect(s.reap((name) => name === 'live')).toEqual(['dead']);
    expect(s.sessions()).toEqual(['live']);
    expect(new SessionEnvStore('/nonexistent/mino').reap(() => false)).toEqual([]);
  });

  it('refuses a directory others can enter, or a symlink in its place', () => {
    const s = store();
    s.ensureDir();
    chmodSync(s.dir, 0o755);
    expect(thrown(() => s.write('web', 'x')).message).toContain('must be a directory of yours with mode 0700');
    const root = mkdtempSync(join(tmpdir(), 'mino-senv-'));
    mkdirSync(join(root, 'real'), { mode: 0o700 });
    symlinkSync(join(root, 'real'), join(root, 'link'));
    expect(thrown(() => new SessionEnvStore(join(root, 'link')).write('web', 'x')).message).toContain(
      'Unsafe directory',
    );
  });

  it('lives on the runtime directory (a tmpfs) when there is one of this user', () => {
    const runtime = mkdtempSync(join(tmpdir(), 'mino-xdg-run-'));
    const uid = process.getuid?.();
    if (process.platform === 'linux') {
      expect(sessionEnvDir('/state', 'k1', { XDG_RUNTIME_DIR: runtime }, uid)).toBe(
        join(runtime, 'mino', 'k1', 'session-env'),
      );
      expect(sessionEnvDir('/state', 'k1', { XDG_RUNTIME_DIR: runtime }, 99999)).toBe(
        uid === 99999 ? join(runtime, 'mino', 'k1', 'session-env') : '/state/session-env',
      );
      expect(sessionEnvDir('/state', 'k1', {}, 0)).toBe('/run/mino/k1/session-env');
    }
    expect(sessionEnvDir('/state', 'k1', {}, 1000)).toBe('/state/session-env');
  });
});
