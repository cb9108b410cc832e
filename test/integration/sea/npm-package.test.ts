import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/test-env.js';

/**
 * The npm package (`npm pack`, then `npm install -g` of the tarball): it holds what bin/mino needs
 * (launcher, bundle, built-in layers) and nothing heavy (not the 90 MB single executable, not
 * source maps), and a global install in a temporary prefix works.
 */

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'mino-test-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(argv: string[], env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: work,
    encoding: 'utf8',
    env: {
      ...process.env,
      NO_COLOR: '1',
      XDG_CACHE_HOME: join(work, 'cache'),
      XDG_DATA_HOME: join(work, 'data'),
      ...env,
    },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('npm package', () => {
  let tarball = '';

  it('packs the launcher, the bundle and the built-in layers only', () => {
    const r = spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [info] = JSON.parse(r.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
    tarball = join(work, info!.filename);
    const files = info!.files.map((f) => f.path).sort();
    for (const needed of [
      'bin/mino',
      'bin/package.json',
      'dist/mino.cjs',
      'package.json',
      'layers/base/Containerfile',
      'layers/base/mino-entrypoint',
      'layers/typescript/layer.toml',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => f.startsWith('dist/'))).toEqual(['dist/mino.cjs']);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('node_modules/'))).toBe(
      false,
    );
    expect(info!.size).toBeLessThan(1024 * 1024);
  });

  it('runs from the unpacked tarball without any node_modules (everything is bundled)', () => {
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    expect(spawnSync('tar', ['-xzf', tarball, '-C', unpacked]).status).toBe(0);
    const bin = join(unpacked, 'package', 'bin', 'mino');
    expect(existsSync(join(unpacked, 'package', 'node_modules'))).toBe(false);
    expect(run([process.execPath, bin, '--version'])).toEqual({ stdout: `${version}\n`, stderr: '', status: 0 });
    const layers = run([process.execPath, bin, 'layers', 'list', '-f', 'json']);
    expect(layers.status).toBe(0);
    const dirs = (JSON.parse(layers.stdout) as Array<{ directory: string }>).map((l) => l.directory);
    expect(dirs.length).toBe(3);
    for (const d of dirs) expect(d.startsWith(join(unpacked, 'package', 'layers'))).toBe(true);
    expect(run([process.execPath, bin, 'list', '-a', '-f', 'json'], { XDG_STATE_HOME: join(work, 'state') })).toEqual({
      stdout: '[]\n',
      stderr: '',
      status: 0,
    });
  });

  it('installs globally into a prefix and runs from there', () => {
    const prefix = join(work, 'prefix');
    // The dependencies are in npm's cache after `npm ci`: no registry round trip needed.
    const install = spawnSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { cwd: work, encoding: 'utf8' },
    );
    expect(install.stderr).not.toMatch(/ERR!/);
    expect(install.status).toBe(0);
    const bin = join(prefix, 'bin', 'mino');
    expect(realpathSync(bin)).toBe(join(prefix, 'lib', 'node_modules', 'mino', 'bin', 'mino'));
    expect(run([bin, '--version'])).toEqual({ stdout: `${version}\n`, stderr: '', status: 0 });
    const help = run([bin, '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mino/);
    const layers = run([bin, 'layers', 'list']);
    expect(layers.status).toBe(0);
    expect(layers.stdout).toContain(join(prefix, 'lib', 'node_modules', 'mino', 'layers', 'typescript'));
  });
});
