import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { runMino } from '../../helpers/run-mino.js';
import { MODES, Sandbox, buildMinoLikeImage, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { IS_ROOT, ROOTLESS_USER, uidOf } from '../../helpers/test-env.js';
import { homeVolumeName } from '../../../src/volume/home-volume.js';

requirePrerequisites();

/**
 * The proof of `mino kube render`: the Pod it renders, run with `podman kube play` (with the flags
 * its own header names), sees what the same plan sees under a plain `mino run`: the same user and
 * group, working directory, variable names (a plain one and a secret one) and mounts at and under
 * the project (read-only or not). Image: busybox with a uid-1000 user, named like a composed image
 * (home volume, uid known), so both runs take seconds.
 */
const PROBE = [
  'id -u',
  'id -g',
  'pwd',
  'echo ---',
  'env | sed -n "s/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p" | sort',
  'echo ---',
  'awk -v w="$PWD" \'$2 == w || index($2, w "/") == 1 { split($4, o, ","); print $2, o[1] }\' /proc/self/mounts | sort',
  'echo ---',
  'echo "secret=${KUBE_SECRET_TOKEN:+set}"',
  'echo ---',
  'if mktemp "$PWD/written.XXXXXX" >/dev/null 2>&1; then echo write=ok; else echo write=denied; fi',
].join('; ');

/** Variables the engine itself sets (podman run and podman kube play set different ones). */
const ENGINE_VARS = new Set(['HOSTNAME', 'HOME', 'PATH', 'PWD', 'SHLVL', 'TERM', 'container']);

interface Probe {
  ids: string;
  env: string[];
  mounts: string[];
  secret: string;
  write: string;
}

function parseProbe(out: string): Probe {
  const [ids = '', env = '', mounts = '', secret = '', write = ''] = out.split('---\n');
  return {
    ids,
    env: env.split('\n').filter((n) => n !== '' && !ENGINE_VARS.has(n)),
    mounts: mounts.split('\n').filter(Boolean),
    secret: secret.trim(),
    write: write.trim(),
  };
}

/** The YAML without its Secret document: podman 4.3 stores a Secret in a form its own secretKeyRef cannot read. */
function withoutSecrets(yaml: string): string {
  return yaml
    .split(/^---\n/m)
    .filter((doc) => !/^kind: Secret$/m.test(doc))
    .join('---\n');
}

for (const as of MODES) {
  describe(`kube render played by podman [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    const secretValue = 'kube-probe-value';
    let image = '';
    let project = '';
    let dir = '';
    beforeAll(() => {
      image = buildMinoLikeImage(as);
      project = sandbox.project('kproj');
      // Two protected paths that exist (read-only mounts onto themselves in both runs).
      writeFileSync(join(project, 'README'), 'x\n');
      writeFileSync(join(project, '.envrc'), 'export A=1\n');
      mkdirSync(join(project, '.vscode'));
      if (as === 'rootless' && IS_ROOT)
        for (const p of ['README', '.envrc', '.vscode'])
          chownSync(join(project, p), uidOf(ROOTLESS_USER)!, uidOf(ROOTLESS_USER)!);
      dir = mkdtempSync(join(tmpdir(), 'mino-kube-test-'));
      if (as === 'rootless' && IS_ROOT) chownSync(dir, uidOf(ROOTLESS_USER)!, uidOf(ROOTLESS_USER)!);
      sandbox.track(homeVolumeName(project));
    });
    afterAll(() => {
      const file = join(dir, 'pod.yaml');
      podmanAs(as, ['kube', 'down', file]);
      podmanAs(as, ['pod', 'rm', '-f', 'mino-probe-kube']);
      podmanAs(as, ['secret', 'rm', 'mino-probe-kube-env']);
      rmSync(dir, { recursive: true, force: true });
      sandbox.cleanup();
    });

    it('runs the rendered Pod with the user, workdir, variable names and project mounts of mino run', async () => {
      const env = { ...sandbox.env, KUBE_SECRET_TOKEN: secretValue };
      const flags = [
        '-p',
        project,
        '--image',
        image,
        '--network',
        'none',
        '-e',
        'KUBE_PLAIN=1',
        '-e',
        'KUBE_SECRET_TOKEN',
      ];
      const mino = (args: string[]) => runMino(args, { as, env, timeoutMs: 60_000 });

      const rendered = await mino(['kube', 'render', '-n', 'probe-kube', ...flags, '--', '/bin/sh', '-c', PROBE]);
      expect(rendered.exitCode, rendered.stderr).toBe(0);
      expect(rendered.stdout).not.toContain(secretValue);
      expect(rendered.stdout).toMatch(/^kind: Pod$/m);
      expect(rendered.stdout).toMatch(/runAsUser: 1000$/m);
      const playLine = /^# Here: podman kube play (.*?)FILE/m.exec(rendered.stdout);
      expect(playLine, rendered.stdout).not.toBeNull();
      const playFlags = (playLine?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
      expect(playFlags).toContain('--network=none');
      if (as === 'rootless') expect(playFlags).toContain('--userns=keep-id:uid=1000,gid=1000');
      const absent = (/Not protected in the Pod \(.*?\): (.*)$/m.exec(rendered.stderr)?.[1] ?? '').split(' ');

      const run = await mino(['run', '-n', 'probe-run', ...flags, '--', '/bin/sh', '-c', PROBE]);
      expect(run.exitCode, run.stderr).toBe(0);

      const file = join(dir, 'pod.yaml');
      writeFileSync(file, withoutSecrets(rendered.stdout), { mode: 0o644 });
      const secretFile = join(dir, 'secret.json');
      writeFileSync(secretFile, JSON.stringify({ KUBE_SECRET_TOKEN: Buffer.from(secretValue).toString('base64') }), {
        mode: 0o644,
      });
      const created = podmanAs(as, ['secret', 'create', 'mino-probe-kube-env', secretFile]);
      expect(created.status, created.stderr).toBe(0);
      const play = podmanAs(as, ['kube', 'play', ...playFlags, file]);
      expect(play.status, play.stderr).toBe(0);
      const waited = podmanAs(as, ['wait', 'mino-probe-kube-agent']);
      expect(waited.stdout.trim(), waited.stderr).toBe('0');
      const logs = podmanAs(as, ['logs', 'mino-probe-kube-agent']);

      const inRun = parseProbe(run.stdout);
      const inPod = parseProbe(logs.stdout);
      expect(inRun.ids).toMatch(/^1000\n1000\n\/kproj\n$/);
      expect(inPod.ids).toBe(inRun.ids);
      expect(inRun.env).toContain('KUBE_PLAIN');
      expect(inRun.env).toContain('KUBE_SECRET_TOKEN');
      expect(inPod.env).toEqual(inRun.env);
      expect(inPod.secret).toBe('secret=set');
      expect(inRun.secret).toBe('secret=set');
      // The project is mounted read-write in both; protected paths that exist are read-only in both.
      expect(inRun.mounts).toEqual(expect.arrayContaining(['/kproj rw', '/kproj/.envrc ro', '/kproj/.vscode ro']));
      expect(absent).not.toContain('/kproj/.envrc');
      // Rootless, both map the image's user onto the host user: what the Pod writes in the project is
      // the user's, as with mino run. Rootful podman kube play has no user namespace: the Pod's uid
      // 1000 is host uid 1000, which cannot write this root-owned project (mino run maps it onto root).
      expect(inRun.write).toBe('write=ok');
      expect(inPod.write).toBe(as === 'rootless' ? 'write=ok' : 'write=denied');
      if (as === 'rootless') {
        const owners = readdirSync(project)
          .filter((f) => f.startsWith('written.'))
          .map((f) => statSync(join(project, f)).uid);
        expect(owners).toEqual([uidOf(ROOTLESS_USER), uidOf(ROOTLESS_USER)]);
      }
      const stubbed = (line: string): boolean => absent.some((t) => t !== '' && line.startsWith(`${t} `));
      expect(inPod.mounts).toEqual(inRun.mounts.filter((l) => !stubbed(l)));
    });
  });
}

describe('kube render: bad input', () => {
  const sandbox = new Sandbox(MODES[0]!);
  let project = '';
  beforeAll(() => {
    project = sandbox.project('bad');
  });
  afterAll(() => sandbox.cleanup());

  it('refuses what mino run refuses with the same error, and its own bad flags, exit 2 and no output', async () => {
    for (const flags of [
      ['--network', 'bogus'],
      ['--volume', 'rel/dir:/x'],
      ['-e', '1BAD=x'],
      ['-n', 'a/b'],
    ]) {
      const run = await sandbox.mino(['run', '-p', project, ...flags, '--', 'true']);
      const kube = await sandbox.mino(['kube', 'render', '-p', project, ...flags, '--', 'true']);
      expect(run.exitCode, run.stderr).toBe(2);
      expect(kube.exitCode, kube.stderr).toBe(2);
      expect(kube.stderr).toBe(run.stderr);
      expect(kube.stdout).toBe('');
    }
    const own: [string[], RegExp][] = [
      [['-o', 'xml'], /^Error: Invalid output format 'xml'\nHint: Use --output yaml \(the default\) or json\n$/],
      [['--warm', '2'], /^Error: --warm needs --agent-sandbox\n/],
      [['--agent-sandbox', '--warm', 'many'], /^Error: Invalid --warm 'many'\n/],
      [['--agent-sandbox', '--project-repo', 'a\nb'], /^Error: Invalid --project-repo: not a git URL\n/],
    ];
    for (const [flags, message] of own) {
      const r = await sandbox.mino(['kube', 'render', '-p', project, ...flags, '--', 'true']);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
