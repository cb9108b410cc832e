import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExtraCertificates } from '../../../src/image/host-ca-certificates.js';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { exclusive } from '../../helpers/exclusive.js';
import { IN_CI, IS_ROOT, MINO_BIN, TEST_LABEL, TEST_RUN, hasPodman } from '../../helpers/test-env.js';

// Removes or retags images of the shared engines: one such file at a time (vitest.config.ts).
exclusive('image-store');

/**
 * The mino-base image on real rootful Podman. CI runs `bin/mino setup --yes` before the tests,
 * which builds it; these tests reuse that image (setup is then a no-op) and never delete it.
 * Under CI a missing image fails the run; elsewhere the first test builds it (a few minutes).
 */

const LATEST = 'localhost/mino-base:latest';

interface StatusJson {
  ok: boolean;
  checks: Array<{ id: string; status: string; detail?: string; hint?: string }>;
}

function podman(args: string[], input?: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('podman', args, { encoding: 'utf8', input, cwd: '/tmp', maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? 1 };
}

function run(
  image: string,
  command: string[],
  options: string[] = [],
): { stdout: string; stderr: string; status: number } {
  return podman([
    'run',
    '--rm',
    '--label',
    `${TEST_LABEL}=${TEST_RUN}`,
    '--network',
    'none',
    ...options,
    image,
    ...command,
  ]);
}

const canRun = IS_ROOT && hasPodman();
if (!canRun && IN_CI) throw new Error('base-image integration tests need root and podman under CI');

const temps: string[] = [];
const tempImages: string[] = [];
const tempVolumes: string[] = [];
afterAll(() => {
  for (const v of tempVolumes) podman(['volume', 'rm', '-f', v]);
  for (const i of tempImages) podman(['rmi', '-i', i]);
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  temps.push(d);
  return d;
}

describe.runIf(canRun)('mino-base image [rootful]', () => {
  let tag = '';

  beforeAll(async () => {
    const status = await runMino(['status', '-f', 'json']);
    const base = (JSON.parse(status.stdout) as StatusJson).checks.find((c) => c.id === 'image.base');
    if (base?.status !== 'ok') {
      if (IN_CI)
        throw new Error(
          `mino-base is not built (${base?.detail ?? 'no check'}): CI must run 'bin/mino setup --yes' before the tests`,
        );
      const setup = await runMino(['setup', '--yes'], { timeoutMs: 20 * 60_000 });
      if (setup.exitCode !== 0) throw new Error(`mino setup --yes failed:\n${setup.stdout}\n${setup.stderr}`);
    }
  }, 21 * 60_000);

  it('setup --yes on a current image builds nothing and reports it', async () => {
    const t0 = Date.now();
    const r = await runMino(['setup', '--yes']);
    expect(r.stdout).toMatch(/\[OK\] +Base image: localhost\/mino-base:[0-9a-f]{12} \(\d/);
    expect(r.stderr).not.toMatch(/STEP \d+\//);
    expect(r.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
    tag = /localhost\/mino-base:[0-9a-f]{12}/.exec(r.stdout)![0];
  });

  it('latest is the current hash-tagged image', () => {
    const ids = [tag, LATEST].map((i) => podman(['image', 'inspect', '--format', '{{.Id}}', i]).stdout.trim());
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('runs Claude Code: claude --version prints a version', () => {
    const r = run(LATEST, ['claude', '--version']);
    expect(r.stderr).toContain('Bootstrap complete.');
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/m);
    expect(r.status).toBe(0);
  });

  it('runs as developer (uid 1000) with /workspace and /cache owned by it, and ships the tools', () => {
    const r = run(LATEST, [
      'sh',
      '-c',
      'id; echo "home=$HOME pwd=$(pwd)"; stat -c "%n %u:%g" /workspace /cache; for t in git bash zsh curl ssh ps jq rg node npm; do command -v $t >/dev/null || echo "missing $t"; done',
    ]);
    expect(r.stdout).toContain('uid=1000(developer) gid=1000(developer)');
    expect(r.stdout).toContain('home=/home/developer pwd=/workspace');
    expect(r.stdout).toContain('/workspace 1000:1000');
    expect(r.stdout).toContain('/cache 1000:1000');
    expect(r.stdout).not.toContain('missing');
    expect(r.status).toBe(0);
  });

  it("uses the host's npm registry (read from the host's npm configuration at build time)", () => {
    const host = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: '/tmp' }).stdout.trim();
    const r = run(LATEST, ['npm', 'config', 'get', 'registry']);
    expect(r.stdout.trim().replace(/\/$/, '')).toBe(host.replace(/\/$/, ''));
    expect(r.status).toBe(0);
  });

  it('the entrypoint says "Bootstrap complete." on stderr, and nothing with MINO_QUIET_BOOTSTRAP=1', () => {
    const loud = run(LATEST, ['echo', 'hello']);
    expect(loud.stdout).toBe('hello\n');
    expect(loud.stderr).toBe('Bootstrap complete.\n');
    const quiet = run(LATEST, ['echo', 'hello'], ['-e', 'MINO_QUIET_BOOTSTRAP=1']);
    expect(quiet.stdout).toBe('hello\n');
    expect(quiet.stderr).toBe('');
    expect(run(LATEST, ['sh', '-c', 'exit 7']).status).toBe(7);
  });

  it('mino run reports a missing command (also with an empty PATH) like a shell: 127 with an Error line', async () => {
    const project = scratch('mino-base-exit-');
    const xdg = isolatedXdg();
    temps.push(xdg.root);
    const env = {
      XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
      XDG_STATE_HOME: xdg.XDG_STATE_HOME,
      XDG_DATA_HOME: xdg.XDG_DATA_HOME,
    };
    const missing = await runMino(['run', '-p', project, '--network', 'none', '--no-home', '--', 'nonexistent-cmd'], {
      env,
    });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/^Error: command not found in the image: nonexistent-cmd$/m);
    const noPath = await runMino(
      ['run', '-p', project, '--network', 'none', '--no-home', '-e', 'PATH=/nonexistent', '--', 'ls'],
      { env },
    );
    expect(noPath.exitCode).toBe(127);
    expect(noPath.stderr).toMatch(/^Error: command not found in the image: ls$/m);
    const notExec = await runMino(['run', '-p', project, '--network', 'none', '--no-home', '--', '/etc/passwd'], {
      env,
    });
    expect(notExec.exitCode).toBe(126);
  });

  it('trusts the host extra CA certificates and points Node at the system bundle', async () => {
    const r = run(
      LATEST,
      ['sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS"; cat /etc/ssl/certs/ca-certificates.crt'],
      ['-e', 'MINO_QUIET_BOOTSTRAP=1'],
    );
    const [env, ...bundle] = r.stdout.split('\n');
    expect(env).toBe('/etc/ssl/certs/ca-certificates.crt');
    const flat = bundle.join('');
    for (const cert of await hostExtraCertificates()) {
      expect(flat).toContain(cert.pem.split('\n').slice(1, -2).join(''));
    }
  });

  it('runs each layer bootstrap once per home, gated by a marker, and fills an empty home from /etc/skel', () => {
    const ctx = scratch('mino-test-layer-');
    mkdirSync(join(ctx, 'demo'));
    writeFileSync(join(ctx, 'demo', 'bootstrap.sh'), 'echo ran >> "$HOME/demo-count"\necho "demo bootstrap output"\n');
    writeFileSync(join(ctx, 'demo', 'version'), '3\n');
    writeFileSync(join(ctx, 'Containerfile'), `FROM ${LATEST}\nCOPY demo/ /opt/mino/layers/demo/\n`);
    const image = `localhost/mino-test-layer:${process.pid}`;
    tempImages.push(image);
    const built = podman(['build', '-q', '--label', `${TEST_LABEL}=${TEST_RUN}`, '-t', image, ctx]);
    expect(built.stderr).toBe('');
    const volume = `mino-test-home-${process.pid}`;
    tempVolumes.push(volume);
    expect(podman(['volume', 'create', '--label', `${TEST_LABEL}=${TEST_RUN}`, volume]).status).toBe(0);
    const opts = ['-v', `${volume}:/home/developer`];
    const first = run(
      image,
      ['sh', '-c', 'cat ~/demo-count ~/.mino-bootstrap.d/layer-demo; test -f ~/.zshrc && echo zshrc'],
      opts,
    );
    expect(first.stdout).toBe('ran\n3\nzshrc\n');
    expect(first.stderr).toBe('Bootstrap complete.\n'); // layer output goes to the log, not the terminal
    const second = run(image, ['cat', '/home/developer/demo-count'], opts);
    expect(second.stdout).toBe('ran\n');
  });

  it('status lists mino-base tags of other versions as stale', async () => {
    const old = 'localhost/mino-base:000000000000';
    tempImages.push(old);
    expect(podman(['tag', LATEST, old]).status).toBe(0);
    const r = await runMino(['status', '-f', 'json']);
    const stale = (JSON.parse(r.stdout) as StatusJson).checks.find((c) => c.id === 'image.base.stale');
    // Tags of older mino versions may be there too (a machine that upgraded).
    expect(stale?.status).toBe('warn');
    expect(stale?.detail).toContain(old);
    expect(stale?.hint).toContain(`podman rmi ${old}`);
    podman(['untag', old, old]); // with only the image, podman untag removes every tag
    tempImages.pop();
    const after = await runMino(['status', '-f', 'json']);
    expect(
      (JSON.parse(after.stdout) as StatusJson).checks.find((c) => c.id === 'image.base.stale')?.detail ?? '',
    ).not.toContain(old);
  });
});

/** A layers directory whose base Containerfile is replaced (the parent stays mino's). */
function layersWith(containerfile: string): string {
  const dir = scratch('mino-test-layers-');
  mkdirSync(join(dir, 'base'));
  writeFileSync(join(dir, 'base', 'Containerfile'), containerfile);
  return dir;
}

function buildsLeft(data: string): string[] {
  const builds = join(data, 'mino', 'builds');
  return existsSync(builds) ? readdirSync(builds) : [];
}

describe.runIf(canRun)('mino-base build failures [rootful]', () => {
  // The parent comes from the default base_from when local, else from the debootstrapped parent
  // setup already made: these builds only run the broken Containerfile.
  const xdgEnv = (): { XDG_CONFIG_HOME: string; XDG_STATE_HOME: string; XDG_DATA_HOME: string } => {
    const xdg = isolatedXdg();
    temps.push(xdg.root);
    return {
      XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
      XDG_STATE_HOME: xdg.XDG_STATE_HOME,
      XDG_DATA_HOME: xdg.XDG_DATA_HOME,
    };
  };

  it('a failing build reports its last lines and a hint, exits 1 and leaves no scratch files', async () => {
    const xdg = xdgEnv();
    const layers = layersWith('ARG PARENT\nFROM ${PARENT}\nRUN echo "broken-$((40+2))" && exit 3\n');
    const r = await runMino(['setup', '--yes'], { env: { ...xdg, MINO_LAYERS_DIR: layers }, timeoutMs: 300_000 });
    expect(r.stdout).toMatch(/\[FAIL\] +Base image: Building localhost\/mino-base:[0-9a-f]{12} failed/);
    expect(r.stdout).toContain('broken-42');
    expect(r.stdout).toMatch(/Hint: /);
    expect(r.exitCode).toBe(1);
    expect(buildsLeft(xdg.XDG_DATA_HOME)).toEqual([]);
  });

  it('Ctrl-C during a build stops it and removes the scratch files', async () => {
    const xdg = xdgEnv();
    const layers = layersWith('ARG PARENT\nFROM ${PARENT}\nRUN echo started-slow-step && sleep 59.123\n');
    const child = spawn(process.execPath, [MINO_BIN, 'setup', '--yes'], {
      env: { ...process.env, ...xdg, MINO_LAYERS_DIR: layers, NO_COLOR: '1', CI: 'true' },
      cwd: '/tmp',
      stdio: ['ignore', 'pipe', 'pipe'],
    }) as ChildProcessByStdio<null, Readable, Readable>;
    let err = '';
    const started = new Promise<void>((resolve) => {
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (/STEP 2\/\d+: RUN/.test(err)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await started;
    expect(buildsLeft(xdg.XDG_DATA_HOME)).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(buildsLeft(xdg.XDG_DATA_HOME)).toEqual([]);
    // podman build was stopped too: its RUN step does not keep running.
    await new Promise((r) => setTimeout(r, 3000));
    expect(spawnSync('pgrep', ['-f', 'sleep 59.123']).status).toBe(1);
  }, 180_000);
});
