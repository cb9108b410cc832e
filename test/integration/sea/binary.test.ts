import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { IN_CI, MINO_BINARY, REPO_ROOT, TEST_LABELS, binaryProblem } from '../../helpers/test-env.js';

/**
 * The single executable (dist/mino, `npm run package`): what its start-up snapshot may contain, and
 * that it runs on a Linux host without Node.js. The host smoke tests of both CLIs are in
 * binary-cli.test.ts.
 */

requirePrerequisites();
const problem = binaryProblem();
if (problem && IN_CI) throw new Error(problem);
if (problem) console.warn(`[sea] skipping the single-executable tests: ${problem}`);
const describeBinary = problem ? describe.skip : describe;

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const AUDIT = join(REPO_ROOT, 'test', 'fixtures', 'sea', 'snapshot-audit.cjs');

interface Audit {
  registered: boolean;
  accesses: Array<{ what: string; at: string }>;
}

function audit(bundle: string): Audit {
  const r = spawnSync(process.execPath, ['--enable-source-maps', AUDIT, bundle], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Audit;
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe('the snapshot entry (dist/mino-sea.cjs)', () => {
  it('reads nothing of the world while its modules load: no environment, arguments, clock, files, terminal or randomness', () => {
    // Whatever module code reads is frozen into dist/mino: the build machine's HOME, TERM, clock…
    const result = audit(join(REPO_ROOT, 'dist', 'mino-sea.cjs'));
    expect(result.registered).toBe(true);
    expect(result.accesses).toEqual([]);
  });

  it('the audit catches module code that does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-test-audit-'));
    temps.push(dir);
    mkdirSync(join(dir, 'dist'));
    const bundle = join(dir, 'dist', 'bad.cjs');
    writeFileSync(
      bundle,
      [
        'const home = process.env.HOME;',
        'const started = Date.now();',
        'const colour = process.stdout.isTTY;',
        "const pool = require('crypto').randomBytes(16);",
        "require('v8').startupSnapshot.setDeserializeMainFunction(() => console.log(home, started, colour, pool));",
      ].join('\n'),
    );
    const result = audit(bundle);
    expect(result.registered).toBe(true);
    expect(result.accesses.map((a) => a.what)).toEqual([
      'process.env.HOME',
      'Date.now()',
      'process.stdout',
      'crypto.randomBytes()',
    ]);
    expect(result.accesses[0]!.at).toMatch(/dist\/bad\.cjs:1:/);
  });
});

describeBinary('dist/mino on a Linux host without Node.js', () => {
  /** The Debian image `mino setup` builds mino-base from (debootstrap, no node inside). */
  function debianImage(): string {
    const out = spawnSync(
      'podman',
      ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=localhost/mino-debian'],
      { encoding: 'utf8' },
    ).stdout;
    const image = out.split('\n').find((l) => /^localhost\/mino-debian:bookworm-[0-9a-f]+$/.test(l));
    if (!image)
      throw new Error(
        'no localhost/mino-debian:bookworm-* image: run `bin/mino setup --yes` (it builds one for mino-base)',
      );
    return image;
  }

  it("answers --version, --help, layers list, config show and list, writing its layers under the user's data dir", () => {
    // One container, one shell script: each step prints a marker line and its exit code.
    const steps: Array<[string, string]> = [
      ['node', 'command -v node nodejs'],
      ['version', 'mino --version'],
      ['help', 'mino --help'],
      ['layers', 'mino layers list'],
      ['layers-json', 'mino layers list -f json'],
      ['config', 'XDG_CONFIG_HOME=/tmp/conf mino config show'],
      ['list', 'mino list'],
      ['list-json', 'mino list -a -f json'],
      [
        'extracted',
        'stat -c %a "$HOME/.local/share/mino/builtin-layers" && ls "$HOME/.local/share/mino/builtin-layers"',
      ],
      [
        'as-user',
        'mkdir -m 777 /tmp/u && setpriv --reuid 4321 --regid 4321 --clear-groups env HOME=/tmp/u mino layers list -f json',
      ],
    ];
    const script = steps.map(([name, cmd]) => `echo "### ${name}"; ${cmd}; echo "### ${name} exit $?"`).join('\n');
    const labels = Object.entries(TEST_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const r = spawnSync(
      'podman',
      [
        'run',
        '--rm',
        '--network',
        'none',
        ...labels,
        '-v',
        `${MINO_BINARY}:/usr/local/bin/mino:ro`,
        '-e',
        'HOME=/root',
        '-e',
        'NO_COLOR=1',
        debianImage(),
        'sh',
        '-c',
        script,
      ],
      { encoding: 'utf8', cwd: '/' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const sections = new Map<string, { out: string; code: number }>();
    for (const [name] of steps) {
      const m = new RegExp(`### ${name}\\n([\\s\\S]*?)### ${name} exit (\\d+)\\n`).exec(r.stdout);
      if (!m) throw new Error(`no output for ${name} in:\n${r.stdout}`);
      sections.set(name, { out: m[1]!, code: Number(m[2]) });
    }
    const s = (name: string): { out: string; code: number } => sections.get(name)!;
    expect(s('node').out).toBe(''); // really no Node.js there
    expect(s('node').code).not.toBe(0);
    expect(s('version')).toEqual({ out: `${version}\n`, code: 0 });
    expect(s('help').code).toBe(0);
    expect(s('help').out).toMatch(/^Usage: mino/);
    expect(s('help').out).toMatch(/^\s+layers\b/m);
    expect(s('layers').code).toBe(0);
    expect(s('layers').out).toMatch(/^typescript\s+1\s+built-in/m);
    const layers = JSON.parse(s('layers-json').out) as Array<{ name: string; source: string; directory: string }>;
    expect(layers.map((l) => l.name).sort()).toEqual(['python', 'rust', 'typescript']);
    for (const l of layers)
      expect(l.directory).toMatch(/^\/root\/\.local\/share\/mino\/builtin-layers\/[0-9a-f]{64}\/[a-z]+$/);
    expect(s('config').code).toBe(0);
    expect(s('config').out).toMatch(/^# global config: \/tmp\/conf\/mino\/config\.toml \(not found\)$/m);
    expect(s('list')).toEqual({ out: 'No active sessions\n', code: 0 });
    expect(s('list-json')).toEqual({ out: '[]\n', code: 0 });
    expect(s('extracted').code).toBe(0);
    expect(s('extracted').out).toMatch(/^700\n[0-9a-f]{64}\n$/);
    const asUser = JSON.parse(s('as-user').out) as Array<{ directory: string }>;
    expect(s('as-user').code).toBe(0);
    expect(asUser[0]!.directory).toMatch(/^\/tmp\/u\/\.local\/share\/mino\/builtin-layers\//);
  });
});
