import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { exclusive } from '../../helpers/exclusive.js';
import { descendantsOf } from '../../helpers/processes.js';
import { IN_CI, IS_ROOT, REPO_ROOT, hasPodman } from '../../helpers/test-env.js';

// Removes or retags images of the shared engines: one such file at a time (vitest.config.ts).
exclusive('image-store');

/**
 * `mino run --layers` end to end on real rootful Podman, on the mino-base image that
 * `mino setup --yes` builds (CI runs it before the tests). Composed images of the built-in
 * layers are kept (they are what a user would reuse); those of this file's own layers are removed.
 */

const canRun = IS_ROOT && hasPodman();
if (!canRun && IN_CI) throw new Error('run --layers integration tests need root and podman under CI');

function podman(args: string[]): { stdout: string; status: number } {
  const r = spawnSync('podman', args, { encoding: 'utf8', cwd: '/tmp' });
  return { stdout: r.stdout ?? '', status: r.status ?? 1 };
}

/** IDs of composed images carrying exactly this layers label (`name@version,...`). */
function composedWith(layers: string): string[] {
  // One label filter only: podman ORs repeated filters of the same kind.
  return podman(['images', '-q', '--filter', `label=io.mino.composed.layers=${layers}`])
    .stdout.split('\n')
    .filter(Boolean);
}

function writeLayer(project: string, name: string, toml: string, script: string): void {
  const dir = join(project, '.mino', 'layers', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'layer.toml'), toml);
  writeFileSync(join(dir, 'install.sh'), script, { mode: 0o755 });
}

describe.runIf(canRun)('mino run --layers [rootful]', () => {
  let project = '';
  let xdgDirs: ReturnType<typeof isolatedXdg>;
  let xdg: NodeJS.ProcessEnv = {};
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runMino> =>
    runMino(['run', '--network', 'none', ...args], { cwd: project, env: { ...xdg, ...env }, timeoutMs: 15 * 60_000 });
  // The project's own layers get versions no built-in has, so their images can be found and removed.
  const ownLayers = ['greeter@41', 'typescript@99'];
  // The project's .mino/layers needs the user's trust (non-interactive runs skip it otherwise).
  const TRUST = { MINO_TRUST_LOCAL: '1' };

  beforeAll(async () => {
    const status = await runMino(['status', '-f', 'json']);
    const base = (JSON.parse(status.stdout) as { checks: Array<{ id: string; status: string }> }).checks.find(
      (c) => c.id === 'image.base',
    );
    if (base?.status !== 'ok')
      throw new Error("mino-base is not built: run 'bin/mino setup --yes' before the integration tests");
    project = realpathSync(mkdtempSync(join(tmpdir(), 'mino-run-layers-')));
    xdgDirs = isolatedXdg();
    xdg = {
      XDG_CONFIG_HOME: xdgDirs.XDG_CONFIG_HOME,
      XDG_STATE_HOME: xdgDirs.XDG_STATE_HOME,
      XDG_DATA_HOME: xdgDirs.XDG_DATA_HOME,
    };
  });

  afterAll(() => {
    for (const layers of ownLayers) {
      const ids = composedWith(layers);
      if (ids.length > 0) podman(['rmi', '-f', ...ids]);
    }
    rmSync(project, { recursive: true, force: true });
    rmSync(xdgDirs.root, { recursive: true, force: true });
  });

  it('typescript: tsc runs; the second run reuses the composed image and builds nothing', async () => {
    const first = await run(['--layers', 'typescript', '--', 'tsc', '--version']);
    expect(first.stderr).not.toMatch(/^Error:/m);
    expect(first.stdout).toMatch(/^Version 5\.\d+\.\d+$/m);
    expect(first.exitCode).toBe(0);
    // Images composed on older base images may exist too: count, do not expect exactly one.
    const images = composedWith('typescript@1');
    expect(images.length).toBeGreaterThanOrEqual(1);

    // The alias names the same layer, and MINO_LAYERS selects it too.
    const second = await run(['--', 'sh', '-c', 'tsc --version; echo "cache=$npm_config_cache"'], {
      MINO_LAYERS: 'ts',
    });
    expect(second.stdout).toMatch(/^Version 5/m);
    expect(second.stdout).toContain('cache=/cache/npm');
    expect(second.stderr).not.toContain('Building the image');
    expect(second.exitCode).toBe(0);
    expect(composedWith('typescript@1')).toEqual(images);
  });

  it('an image index whose base ID no longer matches (base rebuilt) is not trusted', async () => {
    const indexFile = join(xdgDirs.XDG_DATA_HOME, 'mino', 'images.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { base: string; composed: string[] };
    expect(index.base).toMatch(/^[0-9a-f]{64}$/);
    expect(index.composed.some((t) => /^localhost\/mino-composed-[0-9a-f]{12}:latest$/.test(t))).toBe(true);
    writeFileSync(indexFile, JSON.stringify({ base: '0'.repeat(64), composed: index.composed }));
    const r = await run(['--layers', 'typescript', '--', 'tsc', '--version']);
    expect(r.stdout).toMatch(/^Version 5/m);
    expect(r.stderr).not.toContain('Building the image');
    expect((JSON.parse(readFileSync(indexFile, 'utf8')) as { base: string }).base).toBe(index.base);
  });

  it('python: python3 runs', async () => {
    const r = await run(['--layers', 'py', '--', 'python3', '-c', 'print(1)']);
    expect(r.stdout).toBe('1\n');
    expect(r.exitCode).toBe(0);
  });

  it('a project-local layer with an install.sh and [env]; [env] and -e precedence', async () => {
    writeLayer(
      project,
      'greeter',
      '[layer]\nname = "greeter"\ndescription = "says hello"\nversion = "41"\n\n[env]\nGREETING = "hello from the layer"\nWHO = "layer"\n',
      '#!/bin/sh\nset -eu\nprintf \'#!/bin/sh\\necho "$GREETING, $WHO"\\n\' > /usr/local/bin/greet\nchmod 0755 /usr/local/bin/greet\n',
    );
    const r = await run(['--layers', 'greeter', '-e', 'WHO=cli', '--', 'greet'], TRUST);
    expect(r.stdout).toBe('hello from the layer, cli\n');
    expect(r.exitCode).toBe(0);
    expect(composedWith('greeter@41')).toHaveLength(1);

    // Removed behind mino's back: the run says so and forgets it; the next run builds it again.
    podman(['rmi', '-f', ...composedWith('greeter@41')]);
    const gone = await run(['--layers', 'greeter', '--', 'greet'], TRUST);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toMatch(
      /Error: Image localhost\/mino-composed-[0-9a-f]{12}:latest for the selected layers was removed/,
    );
    const again = await run(['--layers', 'greeter', '--', 'greet'], TRUST);
    expect(again.stderr).toContain('Building the image');
    expect(again.stdout).toBe('hello from the layer, layer\n');
    const list = await runMino(['layers', 'list', '-f', 'json'], { cwd: project, env: { ...xdg } });
    expect(
      (JSON.parse(list.stdout) as Array<{ name: string; source: string }>).find((l) => l.name === 'greeter')?.source,
    ).toBe('project');
  });

  it('a project layer shadows the built-in one of the same name', async () => {
    writeLayer(
      project,
      'typescript',
      '[layer]\nname = "typescript"\ndescription = "shadow"\nversion = "99"\n',
      '#!/bin/sh\necho shadowed > /etc/mino-shadow\n',
    );
    const r = await run(
      ['--layers', 'typescript', '--', 'sh', '-c', 'cat /etc/mino-shadow; command -v tsc || echo no-tsc'],
      TRUST,
    );
    expect(r.stdout).toBe('shadowed\nno-tsc\n');
    expect(r.exitCode).toBe(0);
    rmSync(join(project, '.mino', 'layers', 'typescript'), { recursive: true });
  });

  it('a failing layer build exits non-zero with its output and starts no session', async () => {
    writeLayer(
      project,
      'broken',
      '[layer]\nname = "broken"\ndescription = "fails"\nversion = "1"\n',
      '#!/bin/sh\necho "broken-$((40+2))"\nexit 7\n',
    );
    const r = await run(['--layers', 'broken', '-n', 'never-started', '--', 'true'], TRUST);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Error: Building the image for layers broken failed/);
    expect(r.stderr).toContain('broken-42');
    expect(r.stderr).toMatch(/Hint: /);
    const list = await runMino(['list', '-a', '-f', 'json'], { env: { ...xdg } });
    expect(list.stdout).not.toContain('never-started');
    rmSync(join(project, '.mino', 'layers', 'broken'), { recursive: true });
  });

  it('rejects --layers with --image, and unknown layers, before any container work', async () => {
    const both = await run(['--layers', 'typescript', '--image', 'localhost/mino-base:latest', '--', 'true']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('Error: --layers and --image cannot be used together');
    const unknown = await run(['--layers', 'no-such-layer', '--', 'true']);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toContain("Error: Layer 'no-such-layer' not found");
    expect(unknown.stderr).toMatch(/Hint: Available layers: .*typescript/);
  });

  it('--dry-run prints the composed image without building it', async () => {
    writeLayer(
      project,
      'greeter',
      '[layer]\nname = "greeter"\ndescription = "says hello"\nversion = "41"\n',
      '#!/bin/sh\ntrue\n',
    );
    const before = composedWith('greeter@41');
    const r = await run(['--layers', 'greeter', '--dry-run', '--', 'true'], TRUST);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/localhost\/mino-composed-[0-9a-f]{12}:latest/);
    expect(r.stderr).toMatch(/is not built yet/);
    expect(composedWith('greeter@41')).toEqual(before);
  });

  it("mino run -- claude --version prints Claude Code's version", async () => {
    const r = await run(['--', 'claude', '--version']);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/m);
    expect(r.exitCode).toBe(0);
  });
  it('kill -9 during a compose leaves its build directory only until the next gc, which never takes a live one', async () => {
    const version = String(Date.now());
    ownLayers.push(`stuck@${version}`);
    writeLayer(
      project,
      'stuck',
      `[layer]\nname = "stuck"\ndescription = "builds slowly"\nversion = "${version}"\n`,
      '#!/bin/sh\nsleep 300\n',
    );
    // The killed build's buildah working containers (podman build dies with mino: its output pipe
    // is gone) are removed by the test: those created while it ran.
    const working = (): string[] =>
      podman(['ps', '-a', '--external', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])
        .stdout.split('\n')
        .filter((l) => / (mino-base|[0-9a-f]{12})-working-container(-\d+)?$/.test(l))
        .map((l) => l.split(' ')[0]!);
    const before = new Set(working());
    const builds = join(xdgDirs.XDG_DATA_HOME, 'mino', 'builds');
    const contexts = (): string[] => {
      try {
        return readdirSync(builds).filter((n) => !n.endsWith('.lock') && !n.includes('.tmp'));
      } catch {
        return [];
      }
    };
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'dist', 'mino.cjs'), 'run', '--layers', 'stuck', '--', 'true'],
      {
        cwd: project,
        env: { ...process.env, ...xdg, ...TRUST, NO_COLOR: '1' },
        stdio: 'ignore',
      },
    );
    const until = Date.now() + 120_000;
    while (contexts().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const [context] = contexts();
    expect(context).toBeDefined();
    // While the compose lives, gc leaves its directory alone.
    const live = await runMino(['gc'], { env: xdg });
    expect(live.stdout).not.toContain(context);
    expect(contexts()).toEqual([context]);
    // mino killed outright: nothing removes the directory on the way out. Its podman build is
    // then ended with SIGTERM (a SIGKILL midway can leave podman's store with a mounted half layer).
    const below = descendantsOf(child.pid!);
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('close', r));
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const pid of below.filter(alive)) process.kill(pid, 'SIGTERM');
    const gone = Date.now() + 60_000;
    while (below.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 250));
    expect(below.filter(alive)).toEqual([]);
    const leftovers = working().filter((id) => !before.has(id));
    if (leftovers.length > 0) podman(['rm', '-f', ...leftovers]);
    expect(contexts()).toEqual([context]);
    const gc = await runMino(['gc'], { env: xdg });
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(gc.stdout).toContain(`removed build directory ${join(builds, context!)} (its process ${child.pid} is gone)`);
    expect(contexts()).toEqual([]);
  });
});
