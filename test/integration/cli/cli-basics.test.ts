import { spawnSync } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMino } from '../../helpers/run-mino.js';
import { REPO_ROOT } from '../../helpers/test-env.js';

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('mino CLI basics', () => {
  it('keeps a V8 code cache of the bundle, and lazy-loaded code still works with it', async () => {
    // A cached script loses its dynamic-import callback: an `import()` in the bundle then
    // fails with "A dynamic import callback was not specified" from the second start on.
    expect(readFileSync(join(REPO_ROOT, 'dist', 'mino.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
    // bin/mino reads an ASCII bundle as Latin-1 (no UTF-8 decoding); any other falls back to UTF-8.
    expect(isAscii(readFileSync(join(REPO_ROOT, 'dist', 'mino.cjs')))).toBe(true);
    const cache = mkdtempSync(join(tmpdir(), 'mino-test-cache-'));
    try {
      for (let i = 0; i < 2; i++) {
        const r = await runMino(['setup', '--check'], { env: { XDG_CACHE_HOME: cache } });
        expect(r.stderr).not.toMatch(/dynamic import/);
        expect(r.exitCode).toBe(0);
      }
      const files = readdirSync(join(cache, 'mino'));
      const cacheFile = files.find((f) => f.startsWith('v8-') && f.endsWith('.cache'));
      expect(cacheFile).toBeDefined();
      expect(statSync(join(cache, 'mino')).mode & 0o777).toBe(0o700);
      // Another kind of command adds its code to the cache once (made again, and larger).
      const kinds = join(cache, 'mino', `${cacheFile}.kinds`);
      expect(readFileSync(kinds, 'utf8')).toBe('setup\n');
      const before = statSync(join(cache, 'mino', cacheFile!)).size;
      expect((await runMino(['--help'], { env: { XDG_CACHE_HOME: cache } })).exitCode).toBe(0);
      expect(readFileSync(kinds, 'utf8')).toBe('setup\n --help\n');
      expect(statSync(join(cache, 'mino', cacheFile!)).size).toBeGreaterThan(before);
      expect((await runMino(['--help'], { env: { XDG_CACHE_HOME: cache } })).exitCode).toBe(0);
      expect(readFileSync(kinds, 'utf8')).toBe('setup\n --help\n');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('prints its version on stdout', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runMino([flag]);
      expect(r).toMatchObject({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it("the launcher's --version fast path agrees with the bundle's own version", () => {
    // bin/mino answers --version from package.json; the bundle has the version injected at build.
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'mino.cjs'), '--version'], { encoding: 'utf8' });
    expect(r.stdout).toBe(`${version}\n`);
    expect(r.status).toBe(0);
  });

  it('shows help for the program and for each command', async () => {
    const r = await runMino(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Usage: mino/);
    expect(r.stdout).toMatch(/setup/);
    expect(r.stdout).toMatch(/status/);
    for (const cmd of ['setup', 'status']) {
      const h = await runMino([cmd, '--help']);
      expect(h.exitCode).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`Usage: mino ${cmd}`));
    }
  });

  it('rejects an unknown command with Error and Hint on stderr, exit 2', async () => {
    const r = await runMino(['stauts']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: Unknown command 'stauts'/m);
    expect(r.stderr).toMatch(/Did you mean (one of stats, )?status\?/);
    expect(r.stderr).toMatch(/^Hint: Run 'mino --help'/m);
  });

  it('rejects an unknown flag with Error and Hint naming the command, exit 2', async () => {
    const r = await runMino(['status', '--bogus']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^Error: Unknown option '--bogus'/m);
    expect(r.stderr).toMatch(/^Hint: Run 'mino status --help' for usage/m);
  });

  it('rejects a bad option value with exit 2', async () => {
    const r = await runMino(['status', '-f', 'yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^Error: Invalid format 'yaml'/m);
  });

  it('writes logs to stderr only: -v adds log lines without touching stdout', async () => {
    const quiet = await runMino(['status', '-f', 'json']);
    const loud = await runMino(['-vv', 'status', '-f', 'json']);
    expect(loud.exitCode).toBe(quiet.exitCode);
    // stdout is the same JSON document either way
    expect(Object.keys(JSON.parse(loud.stdout) as object)).toEqual(Object.keys(JSON.parse(quiet.stdout) as object));
    expect(loud.stderr).toMatch(/"msg":"podman"/);
    expect(quiet.stderr).not.toMatch(/"msg":"podman"/);
  });

  it('rejects an invalid MINO_RUNTIME', async () => {
    const r = await runMino(['status'], { env: { MINO_RUNTIME: 'docker' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Error: Invalid MINO_RUNTIME 'docker'/);
  });
});
