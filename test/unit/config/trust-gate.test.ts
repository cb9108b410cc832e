import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runTrustGate, type TrustGateInput } from '../../../src/config/trust-gate.js';
import { readTrustStore } from '../../../src/config/trust-store.js';
import { revokeProject, trustProject } from '../../../src/config/trust-project.js';
import { editLocalConfig } from '../../../src/config/local-config-edit.js';
import { resolveKeyTarget } from '../../../src/config/config-value.js';
import { mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { REPO_ROOT } from '../../helpers/test-env.js';

let root: string;
let project: string;
let env: NodeJS.ProcessEnv;
let said: string[];

function input(over: Partial<TrustGateInput> = {}): TrustGateInput {
  return {
    projectDir: project,
    noLocal: false,
    trustLocal: false,
    strictLocal: false,
    interactive: false,
    say: (l) => said.push(l),
    base: {},
    env,
    ...over,
  };
}

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-trust-')));
  project = join(root, 'repo');
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'config', 'hostile-project'), project, { recursive: true });
  env = {
    XDG_STATE_HOME: join(root, 'state'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_CONFIG_HOME: join(root, 'config'),
  };
  said = [];
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('trust gate', () => {
  it('skips untrusted project config and layers with a warning when nobody can answer', async () => {
    const r = await runTrustGate(input());
    expect(r).toMatchObject({ localStatus: 'skipped', layersStatus: 'skipped' });
    expect(r.local).toBeUndefined();
    expect(r.projectLayersDir).toBeUndefined();
    expect(said.join('\n')).toMatch(
      /Warning: skipped untrusted project config .*\.mino\.toml and project layers .*\(sets container\.env, container\.volumes, container\.network\)/,
    );
    expect(existsSync(join(root, 'state', 'mino', 'trusted_configs.json'))).toBe(false);
  });

  it('fails with --strict-local', async () => {
    await expect(runTrustGate(input({ strictLocal: true }))).rejects.toThrow(
      /Untrusted project config .* \(--strict-local\)/,
    );
  });

  it('--trust-local applies everything for one invocation without storing trust', async () => {
    const r = await runTrustGate(input({ trustLocal: true }));
    expect(r).toMatchObject({ localStatus: 'trusted-once', layersStatus: 'trusted-once' });
    expect(r.local?.raw).toMatchObject({ container: { network: 'host' } });
    expect(readFileSync(join(r.projectLayersDir!, '.mino', 'layers', 'typescript', 'layer.toml'), 'utf8')).toContain(
      'NODE_OPTIONS',
    );
    expect(existsSync(join(root, 'state', 'mino', 'trusted_configs.json'))).toBe(false);
  });

  it("asks interactively showing what changes; No skips, default answer is the caller's", async () => {
    const questions: string[] = [];
    const r = await runTrustGate(
      input({
        interactive: true,
        confirm: async (q) => {
          questions.push(q);
          return false;
        },
      }),
    );
    expect(questions).toEqual(['Trust this project content and continue?']);
    expect(said.join('\n')).toContain('container.network: (unset) → "host"');
    expect(said.join('\n')).toContain('typescript (replaces the built-in layer)');
    expect(r).toMatchObject({ localStatus: 'skipped', layersStatus: 'skipped' });
  });

  it('pins trust to the content: Yes is remembered, any byte change asks again', async () => {
    const yes = await runTrustGate(input({ interactive: true, confirm: async () => true }));
    expect(yes).toMatchObject({ localStatus: 'approved', layersStatus: 'approved' });
    const store = readTrustStore(join(root, 'state', 'mino', 'trusted_configs.json'));
    expect(Object.keys(store).sort()).toEqual([join(project, '.mino.toml'), join(project, '.mino', 'layers')].sort());

    said = [];
    const again = await runTrustGate(input());
    expect(again).toMatchObject({ localStatus: 'trusted', layersStatus: 'trusted' });
    expect(said).toEqual([]);
    expect(again.projectLayersDir).toBe(yes.projectLayersDir);

    appendFileSync(join(project, '.mino', 'layers', 'typescript', 'NOTES.md'), 'x');
    expect(await runTrustGate(input())).toMatchObject({ localStatus: 'trusted', layersStatus: 'skipped' });
    appendFileSync(join(project, '.mino.toml'), '\n');
    expect(await runTrustGate(input())).toMatchObject({ localStatus: 'skipped', layersStatus: 'skipped' });
  });

  it('applies a project file with only harmless keys without asking', async () => {
    writeFileSync(join(project, '.mino.toml'), '[container]\nread_only = true\n');
    rmSync(join(project, '.mino'), { recursive: true });
    const r = await runTrustGate(input());
    expect(r).toMatchObject({ localStatus: 'harmless', layersStatus: 'absent' });
    expect(r.local?.raw).toEqual({ container: { read_only: true } });
    expect(said).toEqual([]);
  });

  it('finds .mino.toml from the project directory upwards, and --no-local ignores everything', async () => {
    const sub = join(project, 'packages', 'app');
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'config', 'commented.toml'), join(root, 'x.toml'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub, { recursive: true });
    const r = await runTrustGate(input({ projectDir: sub, trustLocal: true }));
    expect(r.localPath).toBe(join(project, '.mino.toml'));
    expect(r.layersStatus).toBe('absent');
    expect(await runTrustGate(input({ noLocal: true }))).toMatchObject({
      localStatus: 'disabled',
      layersStatus: 'disabled',
    });
  });

  it('refuses symbolic links in project layers', async () => {
    symlinkSync('/etc/passwd', join(project, '.mino', 'layers', 'typescript', 'data'));
    await expect(runTrustGate(input({ trustLocal: true }))).rejects.toThrow(
      /\.mino\/layers\/typescript\/data is a symbolic link/,
    );
  });
});

describe('project layer tree hash', () => {
  it('changes with content, names and the executable bit', async () => {
    const { hashLayerTree } = await import('../../../src/config/project-layers.js');
    const f = (rel: string, text: string, executable = false) => ({ rel, bytes: Buffer.from(text), executable });
    const base = hashLayerTree([f('a/layer.toml', 'x'), f('a/install.sh', 'y')]);
    expect(hashLayerTree([f('a/install.sh', 'y'), f('a/layer.toml', 'x')])).toBe(base);
    expect(hashLayerTree([f('a/layer.toml', 'x'), f('a/install.sh', 'y', true)])).not.toBe(base);
    expect(hashLayerTree([f('a/layer.toml', 'x'), f('a/install.sh', 'y ')])).not.toBe(base);
    expect(hashLayerTree([f('a/layer.toml', 'x'), f('b/install.sh', 'y')])).not.toBe(base);
  });
});

describe('project files through symbolic links', () => {
  it("refuses a .mino.toml that links to another project's trusted file (no silent trust)", async () => {
    // Project A is trusted; project B's .mino.toml is a link to A's file.
    const a = project;
    trustProject(a, env);
    expect((await runTrustGate(input())).localStatus).toBe('trusted');
    const b = join(root, 'b');
    mkdirSync(b);
    symlinkSync(join(a, '.mino.toml'), join(b, '.mino.toml'));
    await expect(runTrustGate(input({ projectDir: b }))).rejects.toThrow(
      /Project config .*\/b\/\.mino\.toml is a symbolic link; mino reads and writes only regular files/,
    );
    expect(() => trustProject(b, env)).toThrow(/is a symbolic link/);
    // --no-local still runs.
    expect((await runTrustGate(input({ projectDir: b, noLocal: true }))).localStatus).toBe('disabled');
    // Revoking in B leaves A's trust alone.
    expect(revokeProject(b, env)).toBe(0);
    expect((await runTrustGate(input())).localStatus).toBe('trusted');
  });

  it('refuses a .mino directory that links out of the project', async () => {
    const outside = join(root, 'outside');
    renameSync(join(project, '.mino'), outside);
    symlinkSync(outside, join(project, '.mino'));
    unlinkSync(join(project, '.mino.toml'));
    await expect(runTrustGate(input({ trustLocal: true }))).rejects.toThrow(
      /Project directory \.mino in .* is a symbolic link/,
    );
  });

  it('learn --save / config set --local never read a linked .mino.toml nor write through it', () => {
    const secret = join(root, 'secret.toml');
    writeFileSync(secret, '[container]\nenv = { TOKEN = "s3cret" }\n');
    const b = join(root, 'b');
    mkdirSync(b);
    symlinkSync(secret, join(b, '.mino.toml'));
    expect(() => editLocalConfig(b, resolveKeyTarget('container.network_allow'), ['example.com:443'], env)).toThrow(
      /Project config .*\.mino\.toml is a symbolic link/,
    );
    expect(readFileSync(secret, 'utf8')).toBe('[container]\nenv = { TOKEN = "s3cret" }\n');
    expect(readFileSync(join(b, '.mino.toml'), 'utf8')).toBe(readFileSync(secret, 'utf8')); // still the link, untouched
  });
});
