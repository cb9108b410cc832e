import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { MINO_BIN, REPO_ROOT } from '../../helpers/test-env.js';

/** `mino config`, `mino init`, `mino completions` from the built CLI (no podman). */

let root: string;
let project: string;
let xdg: ReturnType<typeof isolatedXdg>;
let globalFile: string;

const fixture = (name: string): string => join(REPO_ROOT, 'test', 'fixtures', 'config', name);
const env = (): NodeJS.ProcessEnv => ({
  XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
  XDG_STATE_HOME: xdg.XDG_STATE_HOME,
  XDG_DATA_HOME: xdg.XDG_DATA_HOME,
  ...xdg.podmanEnv,
});
const mino = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runMino(args, { env: { ...env(), ...extraEnv }, cwd: project });

/** Every file under a directory with its content, to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-config-cli-')));
  project = join(root, 'app');
  mkdirSync(project);
  xdg = isolatedXdg();
  globalFile = join(xdg.XDG_CONFIG_HOME, 'mino', 'config.toml');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(xdg.root, { recursive: true, force: true });
});

describe('mino config', () => {
  it('set/get/unset change only one line of the global file and keep its comments', async () => {
    mkdirSync(join(xdg.XDG_CONFIG_HOME, 'mino'), { recursive: true });
    cpSync(fixture('commented.toml'), globalFile);
    const original = readFileSync(globalFile, 'utf8');
    const set = await mino(['config', 'set', 'container.network', 'none']);
    expect(set).toMatchObject({ exitCode: 0, stderr: '', stdout: `Set container.network in ${globalFile}\n` });
    expect(readFileSync(globalFile, 'utf8')).toBe(original.replace('network = "bridge"', 'network = "none"'));
    expect((await mino(['config', 'get', 'container.network'])).stdout).toBe('none\n');
    await mino(['config', 'unset', 'container.network']);
    expect(readFileSync(globalFile, 'utf8')).toBe(original.replace('network = "bridge"\n', ''));
    const unset = await mino(['config', 'get', 'container.image']);
    expect(unset).toMatchObject({ exitCode: 1, stdout: '' });
  });

  it('config set --local keeps comments and keeps the trust of a trusted file', async () => {
    cpSync(fixture('commented.toml'), join(project, '.mino.toml'));
    expect((await mino(['trust'])).exitCode).toBe(0);
    const before = readFileSync(join(project, '.mino.toml'), 'utf8');
    const r = await mino(['config', 'set', '--local', 'container.network', 'none']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(readFileSync(join(project, '.mino.toml'), 'utf8')).toBe(
      before.replace('network = "bridge"', 'network = "none"'),
    );
    const run = await mino(['run', '--dry-run', '--', 'true']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('--network none');
    expect(run.stdout).toContain('-e EDITOR=vim');
  });

  it('config set --local on an untrusted file does not trust it', async () => {
    cpSync(join(fixture('hostile-project'), '.mino.toml'), join(project, '.mino.toml'));
    const r = await mino(['config', 'set', '--local', 'container.workdir', '/src']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('is not trusted, so mino will not apply it');
    const run = await mino(['run', '--dry-run', '--', 'true']);
    expect(run.stdout).not.toContain('--network host');
    expect(run.stderr).toContain('Warning: skipped untrusted project config');
  });

  it('show lists every value with its source; --json is stable', async () => {
    mkdirSync(join(xdg.XDG_CONFIG_HOME, 'mino'), { recursive: true });
    writeFileSync(globalFile, '[container]\nnetwork = "none"\nread_only = true\n');
    writeFileSync(join(project, '.mino.toml'), '[container]\nread_only = false\n');
    const text = await mino(['config', 'show']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^network = "none" +# global$/m);
    expect(text.stdout).toMatch(/^read_only = false +# local$/m);
    expect(text.stdout).toMatch(/^# shell \(unset\)/m);
    const json = JSON.parse((await mino(['config', 'show', '--json'])).stdout) as {
      global: unknown;
      local: unknown;
      values: Record<string, { value: unknown; source: string }>;
    };
    expect(json.global).toEqual({ path: globalFile, exists: true });
    expect(json.local).toEqual({ path: join(project, '.mino.toml'), status: 'harmless' });
    expect(json.values['container.network']).toEqual({ value: 'none', source: 'global' });
    expect(json.values['container.image']).toEqual({ value: null, source: 'default' });
  });

  it('path and set honour -c and MINO_CONFIG; init writes a template once', async () => {
    const custom = join(root, 'custom.toml');
    expect((await mino(['config', 'path'])).stdout).toBe(`${globalFile}\n`);
    expect((await mino(['config', 'path', '-c', custom])).stdout).toBe(`${custom}\n`);
    expect((await mino(['-c', custom, 'config', 'path'])).stdout).toBe(`${custom}\n`);
    expect((await mino(['config', 'path'], { MINO_CONFIG: custom })).stdout).toBe(`${custom}\n`);
    expect((await mino(['config', 'init', '-c', custom])).exitCode).toBe(0);
    expect(readFileSync(custom, 'utf8')).toContain('# network = "bridge"');
    const again = await mino(['config', 'init', '-c', custom]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('already exists');
    await mino(['config', 'set', '-c', custom, 'session.shell', '/bin/zsh']);
    expect(readFileSync(custom, 'utf8')).toMatch(
      /\[session\]\nshell = "\/bin\/zsh"\n# shell = "\/bin\/bash" +# shell for/,
    );
    expect((await mino(['config', 'get', 'session.shell', '-c', custom])).stdout).toBe('/bin/zsh\n');
  });
});

describe('configuration errors: one clear error each, no file changed', () => {
  const cases: Array<[string, string, RegExp, string]> = [
    [
      'bad TOML',
      'bad-toml.toml',
      /^Error: Invalid TOML in .*config\.toml at line 3, column \d+: .*\nHint: .*\n$/,
      'config show',
    ],
    [
      'an unknown key',
      'unknown-key.toml',
      /^Error: Invalid config .*config\.toml: unknown key 'container\.netwrk'\nHint: Did you mean 'container\.network'\?\n$/,
      'config show',
    ],
    [
      'a wrong type',
      'wrong-type.toml',
      /^Error: Invalid config .*config\.toml: container\.volumes must be an array of strings, not string .*\nHint: .*\n$/,
      'config show',
    ],
  ];
  for (const [what, file, message] of cases) {
    it(`${what} in the global file stops show, set and run`, async () => {
      mkdirSync(join(xdg.XDG_CONFIG_HOME, 'mino'), { recursive: true });
      cpSync(fixture(file), globalFile);
      const before = { ...snapshot(xdg.root), ...snapshot(project) };
      for (const args of [
        ['config', 'show'],
        ['config', 'set', 'container.workdir', '/x'],
        ['run', '--dry-run', '--', 'true'],
      ]) {
        const r = await mino(args);
        expect(r.exitCode, args.join(' ')).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(message);
      }
      expect({ ...snapshot(xdg.root), ...snapshot(project) }).toEqual(before);
    });
  }

  it('the same problems in a project file name that file', async () => {
    cpSync(fixture('unknown-key.toml'), join(project, '.mino.toml'));
    const r = await mino(['run', '--dry-run', '--', 'true']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `Error: Invalid config ${join(project, '.mino.toml')}: unknown key 'container.netwrk'\nHint: Did you mean 'container.network'?\n`,
    );
  });

  it('rejects bad values and unknown keys in config set without touching the file', async () => {
    mkdirSync(join(xdg.XDG_CONFIG_HOME, 'mino'), { recursive: true });
    cpSync(fixture('commented.toml'), globalFile);
    const before = readFileSync(globalFile, 'utf8');
    const bad = await mino(['config', 'set', 'container.network', 'hots']);
    expect(bad).toMatchObject({
      exitCode: 2,
      stderr:
        "Error: container.network must be one of bridge, host, none, learn, not 'hots'\nHint: E.g. mino config set container.network bridge\n",
    });
    const unknown = await mino(['config', 'set', 'container.netwrk', 'none']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toBe(
      "Error: Unknown config key 'container.netwrk'\nHint: Did you mean 'container.network'? 'mino config show' lists every key\n",
    );
    const image = await mino(['config', 'set', 'container.image', 'Not An Image']);
    expect(image.exitCode).toBe(2);
    expect(image.stderr).toContain('container.image must be an image reference');
    // Values every later run would reject are refused with the rules of the flags, exit 2 + Hint.
    for (const [key, value, message] of [
      ['container.volumes', '/srv/x:data', "container path 'data' is not absolute"],
      ['container.volumes', '/srv/x:/a/../etc', 'container path /etc: podman writes hostname'],
      ['container.volumes', 'rel/x:/x', "host path 'rel/x' is not absolute"],
      ['cache.max_total_gb', '-3', 'cache.max_total_gb must be at least 0'],
      ['container.env.BAD KEY', 'x', "'BAD KEY' is not a valid variable name"],
      ['home.enabled', 'maybe', 'takes true or false'],
      ['pool.min_warm', '20', 'min_warm (20) is above max_warm (10)'],
      ['pool.max_warm', '1', 'min_warm (2) is above max_warm (1)'],
    ] as const) {
      const r = await mino(['config', 'set', key, value]);
      expect(r.exitCode, `${key} ${value}`).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toMatch(/^Hint: /m);
    }
    expect(readFileSync(globalFile, 'utf8')).toBe(before);
    // The same relation in a project's file, merged over the global one.
    const local = join(project, '.mino.toml');
    writeFileSync(local, '[pool]\nmax_warm = 4\n');
    const tooMany = await mino(['config', 'set', '--local', 'pool.min_warm', '5']);
    expect(tooMany.exitCode).toBe(2);
    expect(tooMany.stderr).toContain('min_warm (5) is above max_warm (4)');
    expect(readFileSync(local, 'utf8')).toBe('[pool]\nmax_warm = 4\n');
    expect((await mino(['config', 'set', '--local', 'pool.min_warm', '4'])).exitCode).toBe(0);
    rmSync(local);
    const ok = await mino(['config', 'set', 'container.volumes', '/srv/x:/data,data:/d:ro']);
    expect(ok.exitCode).toBe(0);
  });

  it('mino --version does not read the configuration', async () => {
    const r = await mino(['--version'], { MINO_CONFIG: fixture('bad-toml.toml') });
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
  });
});

describe('mino init', () => {
  it('writes a commented .mino.toml with layers suggested from lockfiles, which needs no trust', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    const r = await mino(['init', '-p', project]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Suggested layers (commented out): typescript (package-lock.json)');
    const text = readFileSync(join(project, '.mino.toml'), 'utf8');
    expect(text).toContain('# layers = ["typescript"]');
    const again = await mino(['init', '-p', project]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain("Use 'mino init -f'");
    expect((await mino(['init', '-f', '-p', project])).exitCode).toBe(0);
    const run = await mino(['run', '--dry-run', '--', 'true']);
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
    expect(JSON.parse((await mino(['config', 'show', '--json'])).stdout).local.status).toBe('harmless');
  });
});

describe('mino completions', () => {
  it('bash: the script loads and completes commands, config keys and option values', () => {
    const script =
      `source <("${process.execPath}" "${MINO_BIN}" completions bash) && complete -p mino && ` +
      'COMP_WORDS=(mino config s); COMP_CWORD=2; _mino; echo "${COMPREPLY[*]}"; ' +
      'COMP_WORDS=(mino config set container.netw); COMP_CWORD=3; _mino; echo "${COMPREPLY[*]}"; ' +
      'COMP_WORDS=(mino completions ""); COMP_CWORD=2; _mino; echo "${COMPREPLY[*]}"; ' +
      'COMP_WORDS=(mino run --net); COMP_CWORD=2; _mino; echo "${COMPREPLY[*]}"; ' +
      'COMP_WORDS=(mino list -f ""); COMP_CWORD=3; _mino; echo "${COMPREPLY[*]}"';
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env() } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [complete, sub, key, shells, runOpt, format] = r.stdout.split('\n');
    expect(complete).toBe('complete -o default -F _mino mino');
    expect(sub!.split(' ').sort()).toEqual(['set', 'show']);
    expect(key).toBe('container.network container.network_allow container.network_preset');
    expect(shells).toBe('bash zsh fish');
    expect(runOpt).toBe('--network --network-allow --network-preset');
    expect(format).toBe('table json plain');
  });

  it('zsh and fish scripts come from the same definitions', async () => {
    const zsh = await mino(['completions', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef mino\n/);
    expect(zsh.stdout).toContain("'config|set') mino_cmd='config set'");
    const fish = await mino(['completions', 'fish']);
    expect(fish.stdout).toContain("complete -c mino -n '__mino_is \\'run\\'' -s n -l name -r");
    const bad = await mino(['completions', 'tcsh']);
    expect(bad.exitCode).toBe(2);
  });
});
