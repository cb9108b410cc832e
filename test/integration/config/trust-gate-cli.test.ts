import { spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedXdg, runMino, type MinoResult } from '../../helpers/run-mino.js';
import { MINO_BIN, REPO_ROOT } from '../../helpers/test-env.js';

/**
 * A repository with a hostile .mino.toml (network = "host", mounts ~/.ssh, sets env) and a hostile
 * .mino/layers/typescript (NODE_OPTIONS hook) must not reach `mino run` without the user's trust.
 * `mino run --dry-run` prints the podman command, so nothing starts.
 */

let root: string;
let project: string;
let xdg: ReturnType<typeof isolatedXdg>;

const env = (): NodeJS.ProcessEnv => ({
  XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
  XDG_STATE_HOME: xdg.XDG_STATE_HOME,
  XDG_DATA_HOME: xdg.XDG_DATA_HOME,
  ...xdg.podmanEnv,
});
/** Stand-in for the hostile file's /root/.ssh. */
const stolen = (): string => join(root, 'victim', '.ssh');
const store = (): string => join(xdg.XDG_STATE_HOME, 'mino', 'trusted_configs.json');
const dryRun = (extra: string[] = [], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<MinoResult> =>
  runMino(['run', '--dry-run', ...extra, '-p', project, '--', 'true'], {
    env: { ...env(), ...options.env },
    cwd: options.cwd ?? project,
  });

/** The printed podman command (in a terminal, the prompt text shares the output). */
function podmanLine(r: MinoResult): string {
  // `podman run …`, or `podman --hooks-dir … run …` for a contained session (the default).
  return r.stdout.split('\n').find((l) => /^podman (--hooks-dir \S+ )*run /.test(l)) ?? '';
}

function expectHostileConfig(r: MinoResult, applied: boolean): void {
  const line = podmanLine(r);
  expect(line).not.toBe('');
  const seen = [line.includes('--network host'), line.includes('/stolen'), line.includes('GIT_SSH_COMMAND')];
  expect(seen).toEqual([applied, applied, applied]);
}

function expectHostileLayer(r: MinoResult, applied: boolean): void {
  expect(r.stdout.includes('NODE_OPTIONS') || r.stdout.includes('evil-helper')).toBe(applied);
  if (!applied) expect(r.stderr).not.toContain('evil-helper');
}

/** Runs mino in a pseudo-terminal (util-linux `script`), typing `answer`; no CI variables. */
function runInTerminal(args: string[], answer: string): Promise<MinoResult> {
  const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const line = [process.execPath, MINO_BIN, ...args].map(quote).join(' ');
  const clean: NodeJS.ProcessEnv = { ...process.env, ...env(), NO_COLOR: '1', TERM: 'dumb' };
  for (const k of [
    'CI',
    'GITHUB_ACTIONS',
    'GITLAB_CI',
    'CIRCLECI',
    'TRAVIS',
    'JENKINS_URL',
    'BUILDKITE',
    'TEAMCITY_VERSION',
    'TF_BUILD',
  ])
    delete clean[k];
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', line, '/dev/null'], {
      cwd: project,
      env: clean,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      // Answer once the question is on the terminal.
      if (out.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(answer);
    });
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!child.stdin.writableEnded) child.stdin.end();
      resolve({ stdout: out.replace(/\r/g, ''), stderr: '', exitCode: code ?? 1 });
    });
  });
}

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-trust-cli-')));
  project = join(root, 'repo');
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'config', 'hostile-project'), project, { recursive: true });
  // The hostile file mounts /root/.ssh; a run refuses a volume whose host path does not exist, so
  // point it at a stand-in that does (the file stays as hostile as before).
  mkdirSync(stolen(), { recursive: true });
  const file = join(project, '.mino.toml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('/root/.ssh', stolen()));
  xdg = isolatedXdg();
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(xdg.root, { recursive: true, force: true });
});

describe('trust gate on mino run (non-interactive)', () => {
  it('skips the hostile config with a warning and runs with your own settings', async () => {
    const r = await dryRun();
    expect(r.exitCode).toBe(0);
    expectHostileConfig(r, false);
    // Your own settings: none here, so contained (the agent preset's allowlist).
    expect(r.stdout).toContain('# presets: agent');
    expect(r.stdout).toContain('--network none');
    expect(r.stderr).toContain(
      `Warning: skipped untrusted project config ${join(project, '.mino.toml')} and project layers ${join(project, '.mino', 'layers')}`,
    );
    expect(existsSync(store())).toBe(false);
  });

  it('does not use the hostile project layer for --layers typescript', async () => {
    const r = await dryRun(['--layers', 'typescript']);
    // The built-in layer composes on mino-base: this test needs it (bin/mino setup --yes builds it),
    // and fails without it rather than passing on empty output.
    expect(r.stderr, 'needs localhost/mino-base: run bin/mino setup --yes').not.toContain('mino base image');
    expect(r.exitCode).toBe(0);
    expect(podmanLine(r)).toMatch(/^podman (--hooks-dir \S+ )*run .*localhost\/mino-(base|composed-)/);
    expectHostileLayer(r, false);
  });

  it('fails with --strict-local before anything runs', async () => {
    const r = await dryRun(['--strict-local']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: Untrusted project config .* \(--strict-local\)\nHint: /);
  });

  it('--trust-local and MINO_TRUST_LOCAL=1 apply it for one invocation only', async () => {
    const once = await dryRun(['--trust-local', '--layers', 'typescript']);
    expect(once.exitCode).toBe(0);
    expectHostileConfig(once, true);
    expectHostileLayer(once, true);
    expect(once.stderr).toContain('for this run only (--trust-local)');
    expectHostileConfig(await dryRun([], { env: { MINO_TRUST_LOCAL: '1' } }), true);
    expect(existsSync(store())).toBe(false);
    expectHostileConfig(await dryRun(), false);
  });

  it('finds .mino.toml from -p, not from the current directory; --no-local ignores it quietly', async () => {
    const r = await dryRun(['--trust-local'], { cwd: '/' });
    expectHostileConfig(r, true);
    const none = await dryRun(['--no-local'], { env: { MINO_TRUST_LOCAL: '1' } });
    expectHostileConfig(none, false);
    expect(none.stderr).toBe('');
  });

  it('mino trust survives re-runs; any byte change revokes it; --revoke forgets it', async () => {
    const t = await runMino(['trust', '-p', project], { env: env() });
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toContain(`Trusted ${join(project, '.mino.toml')}\n  container.env = `);
    for (let i = 0; i < 2; i++) {
      const r = await dryRun(['--layers', 'typescript']);
      expectHostileConfig(r, true);
      expectHostileLayer(r, true);
      expect(r.stderr).toBe('');
    }
    appendFileSync(join(project, '.mino', 'layers', 'typescript', 'NOTES.md'), ' ');
    const layerChanged = await dryRun(['--layers', 'typescript']);
    expectHostileConfig(layerChanged, true);
    expectHostileLayer(layerChanged, false);
    appendFileSync(join(project, '.mino.toml'), '#');
    expectHostileConfig(await dryRun(), false);

    await runMino(['trust', '-p', project], { env: env() });
    expectHostileConfig(await dryRun(), true);
    const revoke = await runMino(['trust', '--revoke', '-p', project], { env: env() });
    expect(revoke.stdout).toBe(`Revoked trust for 2 item(s) of ${project}\n`);
    expectHostileConfig(await dryRun(), false);
  });
});

describe('trust gate on mino run (interactive, in a pseudo-terminal)', () => {
  const args = (): string[] => ['run', '--dry-run', '-p', project, '--', 'true'];

  it('shows what would change and skips on No (the default)', async () => {
    for (const answer of ['n\n', '\n']) {
      const r = await runInTerminal(args(), answer);
      expect(r.stdout).toContain('This project asks mino for more access than your own configuration gives:');
      expect(r.stdout).toContain('container.network: (unset) → "host"');
      expect(r.stdout).toContain(`container.volumes: [] → ["${stolen()}:/stolen:ro"]`);
      expect(r.stdout).toContain('typescript (replaces the built-in layer)');
      expect(r.stdout).toContain('Trust this project content and continue? [y/N]');
      expect(r.stdout).toContain('Project content skipped.');
      expectHostileConfig(r, false);
      expect(existsSync(store())).toBe(false);
    }
  });

  it('applies and remembers on Yes, so the next run does not ask', async () => {
    const r = await runInTerminal(args(), 'y\n');
    expect(r.exitCode).toBe(0);
    expectHostileConfig(r, true);
    expect(existsSync(store())).toBe(true);
    const again = await runInTerminal(args(), '');
    expect(again.stdout).not.toContain('[y/N]');
    expectHostileConfig(again, true);
  });
});
