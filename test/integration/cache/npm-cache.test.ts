import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { IS_ROOT } from '../../helpers/test-env.js';

requirePrerequisites();

const BASE = 'localhost/mino-base:latest';

function podman(args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('podman', args, { encoding: 'utf8' });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? 1 };
}

/**
 * A real `npm ci` twice on mino-base: the first run fills the npm cache (read-write, building)
 * and completes it; the second, with no network at all, installs from the cache mounted
 * read-only. Asserts on files, never on timing.
 */
describe('npm cache reused across runs [mino-base]', () => {
  let root = '';
  let project = '';
  let volume = '';
  let xdg: Record<string, string> = {};

  beforeAll(() => {
    if (podman(['image', 'exists', BASE]).status !== 0) {
      throw new Error(`${BASE} is missing: run 'bin/mino setup --yes' before the integration tests`);
    }
    const x = isolatedXdg('self');
    xdg = {
      XDG_CONFIG_HOME: x.XDG_CONFIG_HOME,
      XDG_STATE_HOME: x.XDG_STATE_HOME,
      XDG_DATA_HOME: x.XDG_DATA_HOME,
      ...x.podmanEnv,
    };
    root = x.root;
    project = join(root, 'app');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'cache-probe', version: '1.0.0', private: true, dependencies: { 'is-number': '7.0.0' } }),
    );
    // The lockfile (with the resolved URLs of whatever registry npm is configured for) is made
    // on the host, so no registry name is written in this repository. Resolved URLs are forced:
    // without them npm fetches the package documents again, which a read-only cache cannot store.
    const npmCache = mkdtempSync(join(tmpdir(), 'mino-npm-lock-'));
    const lock = spawnSync(
      'npm',
      [
        'install',
        '--package-lock-only',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--omit-lockfile-registry-resolved=false',
        '--cache',
        npmCache,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    rmSync(npmCache, { recursive: true, force: true });
    if (lock.status !== 0) throw new Error(`npm could not make the lockfile on the host: ${lock.stderr}`);
    if (!readFileSync(join(project, 'package-lock.json'), 'utf8').includes('"resolved"'))
      throw new Error('npm wrote a lockfile without resolved URLs');
    const key = createHash('sha256')
      .update(readFileSync(join(project, 'package-lock.json')))
      .digest('hex')
      .slice(0, 12);
    volume = `mino-cache-npm-${key}`;
    if (IS_ROOT) spawnSync('chown', ['-R', '1000:1000', project]);
    chmodSync(root, 0o755);
  }, 120_000);
  afterAll(() => {
    if (volume) podman(['volume', 'rm', '-f', volume]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const run = (args: string[], command: string): ReturnType<typeof runMino> =>
    runMino(
      ['run', '-p', project, '--image', BASE, '--network', 'bridge', '--no-home', ...args, '--', 'sh', '-c', command],
      {
        env: xdg,
        timeoutMs: 600_000,
      },
    );

  it('fills the cache on the first npm ci and completes it', async () => {
    const r = await run([], 'echo "cache=$npm_config_cache"; npm ci --no-audit --no-fund');
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('cache=/cache/npm');
    const info = await runMino(['cache', 'info', '-p', project], { env: xdg });
    expect(info.stdout).toMatch(new RegExp(`npm\\s+package-lock.json \\w+\\s+${volume}\\s+complete`));
    const mountpoint = podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume]).stdout.trim();
    expect(readdirSync(mountpoint)).toContain('_cacache');
  }, 600_000);

  it('installs from the cache with no network in the second run (read-write by default)', async () => {
    rmSync(join(project, 'node_modules'), { recursive: true, force: true });
    const r = await run(
      ['--network', 'none'],
      'npm ci --offline --no-audit --no-fund >/dev/null && ls node_modules && (touch /cache/npm/probe 2>/dev/null && echo writable || echo read-only)',
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toBe('is-number\nwritable\n');
  }, 600_000);

  it('--cache-ro: installs from the same cache mounted read-only', async () => {
    rmSync(join(project, 'node_modules'), { recursive: true, force: true });
    const r = await run(
      ['--network', 'none', '--cache-ro'],
      'npm ci --offline --no-audit --no-fund >/dev/null && ls node_modules && (touch /cache/npm/probe2 2>/dev/null && echo writable || echo read-only)',
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toBe('is-number\nread-only\n');
  }, 600_000);
});
