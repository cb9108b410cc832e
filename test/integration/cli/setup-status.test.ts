import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeOrbState, requirePrerequisites } from '../../helpers/engines.js';
import { runMino, type RunAs } from '../../helpers/run-mino.js';
import { FAKE_ORB, IS_ROOT, ROOTLESS_USER, uidOf } from '../../helpers/test-env.js';
import { MODES, modeLabel } from '../../helpers/sandbox.js';

requirePrerequisites();

interface StatusJson {
  ok: boolean;
  runtime: { rootless: boolean; ociRuntime: string; version: string } | null;
  checks: Array<{ id: string; status: string; detail?: string; hint?: string }>;
}

const QUIRKY_CONF = `# Site settings: keep this comment
[engine]
runtime = "crun"   # the distribution default

[containers]
default_ulimits = [
  "nofile=999999:999999",
  "core=0:0",
]
`;

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A containers.conf with the crun and ulimit quirks, owned by the user who runs mino. */
function quirkyConf(as: RunAs): string {
  const dir = mkdtempSync(join(tmpdir(), 'mino-test-conf-'));
  temps.push(dir);
  chmodSync(dir, 0o755);
  const path = join(dir, 'containers.conf');
  writeFileSync(path, QUIRKY_CONF, { mode: 0o644 });
  if (as === 'rootless' && IS_ROOT) {
    const uid = uidOf(ROOTLESS_USER)!;
    chownSync(dir, uid, uid);
    chownSync(path, uid, uid);
  }
  return path;
}

for (const as of MODES) {
  const label = modeLabel(as);
  describe(`mino status and setup [${label}]`, () => {
    it('status reports a working engine and exits 0', async () => {
      const r = await runMino(['status', '-f', 'json'], { as });
      const report = JSON.parse(r.stdout) as StatusJson;
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(report.ok).toBe(true);
      expect(report.runtime?.rootless).toBe(label === 'rootless');
      expect(report.checks.map((c) => c.id)).toEqual(
        expect.arrayContaining(['podman.installed', 'engine', 'probe.none', 'probe.bridge']),
      );
      const text = await runMino(['status'], { as });
      expect(text.stdout).toMatch(/\[OK\] +Probe container \(no network\)/);
      expect(text.stdout).toMatch(/All critical checks passed/);
    });

    it('on a host with the crun and ulimit quirks: status fails, setup --yes repairs in place, status passes', async () => {
      const conf = quirkyConf(as);
      const env = { CONTAINERS_CONF: conf };
      const before = await runMino(['status', '-f', 'json'], { as, env });
      expect(before.exitCode).toBe(1);
      const failed = (JSON.parse(before.stdout) as StatusJson).checks.find((c) => c.id === 'probe.none');
      expect(failed?.status).toBe('fail');
      expect(failed?.hint).toMatch(/mino setup/);

      const check = await runMino(['setup', '--check'], { as, env });
      expect(check.exitCode).toBe(1);
      expect(readFileSync(conf, 'utf8')).toBe(QUIRKY_CONF); // --check changes nothing

      // --skip-image: this is about the engine; the mino-base build has tests of its own.
      const setup = await runMino(['setup', '--yes', '--skip-image'], { as, env });
      expect(setup.stdout).toMatch(/\[FIXED\] Default ulimits/);
      expect(setup.stdout).toMatch(/Setup complete/);
      expect(setup.exitCode).toBe(0);

      const edited = readFileSync(conf, 'utf8');
      expect(edited).toContain('# Site settings: keep this comment');
      expect(edited).toMatch(/^runtime = "runc"$/m);
      expect(edited).toMatch(/"core=0:0"/); // other limits kept
      expect(edited).toMatch(/"nofile=\d+:\d+"/);
      expect(edited).not.toContain('999999');

      const after = await runMino(['status', '-f', 'json'], { as, env });
      expect(after.exitCode).toBe(0);
      expect((JSON.parse(after.stdout) as StatusJson).runtime?.ociRuntime).toBe('runc');
    });

    it('non-interactive setup without --yes changes nothing and says how to fix', async () => {
      const conf = quirkyConf(as);
      const r = await runMino(['setup'], { as, env: { CONTAINERS_CONF: conf } });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/Hint: .*mino setup --yes/);
      expect(readFileSync(conf, 'utf8')).toBe(QUIRKY_CONF);
    });

    it('refuses to edit a containers.conf it cannot parse', async () => {
      const conf = quirkyConf(as);
      const broken = `${QUIRKY_CONF}\n[containers\nbad`;
      writeFileSync(conf, broken);
      const r = await runMino(['setup', '--yes'], { as, env: { CONTAINERS_CONF: conf } });
      expect(r.exitCode).toBe(1);
      expect(readFileSync(conf, 'utf8')).toBe(broken);
    });
  });
}

describe('mino status without podman', () => {
  it('fails with a hint to run setup', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'mino-test-path-'));
    temps.push(bin);
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const r = await runMino(['status'], { env: { PATH: bin } });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/\[FAIL\] +Podman installed: podman not found on PATH/);
    expect(r.stdout).toMatch(/Hint: Run: mino setup/);
  });
});

describe('mino status through OrbStack (fake orb)', () => {
  it('reports the machine and runs the probe inside it', async () => {
    const state = fakeOrbState();
    const bin = mkdtempSync(join(tmpdir(), 'mino-test-orbpath-'));
    temps.push(bin);
    symlinkSync(FAKE_ORB, join(bin, 'orb'));
    const env = { MINO_RUNTIME: 'orbstack', FAKE_ORB_STATE: state, PATH: `${bin}:${process.env.PATH}` };
    const setup = await runMino(['setup', '--yes'], { env });
    expect(setup.stdout).toMatch(/\[OK\] +OrbStack machine ready/);
    expect(setup.exitCode).toBe(0);
    const r = await runMino(['status', '-f', 'json'], { env });
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as StatusJson;
    expect(report.checks[0]).toMatchObject({ id: 'runtime', detail: 'OrbStack (mino)' });
    expect(readFileSync(join(state, 'calls.log'), 'utf8')).toMatch(
      /-m mino podman run --rm .*--network none .*localhost\/mino-probe:1/,
    );
  });

  it('fails when OrbStack is stopped', async () => {
    const state = fakeOrbState({ orbStopped: true });
    const bin = mkdtempSync(join(tmpdir(), 'mino-test-orbpath-'));
    temps.push(bin);
    symlinkSync(FAKE_ORB, join(bin, 'orb'));
    const r = await runMino(['status'], {
      env: { MINO_RUNTIME: 'orbstack', FAKE_ORB_STATE: state, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/\[FAIL\] +OrbStack machine ready/);
  });
});
