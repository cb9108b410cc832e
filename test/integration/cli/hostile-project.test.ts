import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, modeLabel } from '../../helpers/sandbox.js';
import { IS_ROOT, ROOTLESS_USER, TEST_IMAGE, ownProject, uidOf } from '../../helpers/test-env.js';
import type { MinoResult } from '../../helpers/run-mino.js';

requirePrerequisites();

/**
 * What a hostile project (or the agent inside a session) plants for mino on the host, on real
 * Podman, rootful and rootless: system directories as the project, another user's home as a
 * volume, a `.mino.toml` that links to another project's trusted file or to a host file,
 * lockfiles that are a FIFO or a link to /dev/zero, and a host service on the podman bridge
 * address (down while no bridge container runs) that `--network learn` and `--network-allow`
 * reached. Every target is on this machine.
 */

/** The IPv4 address of the podman bridge (cni-podman0, or podman0 under netavark), up or down. */
function bridgeAddress(): string {
  for (const dev of ['cni-podman0', 'podman0']) {
    const r = spawnSync('ip', ['-4', '-j', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const info = (JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>)[0]?.addr_info?.[0]
      ?.local;
    if (info) return info;
  }
  throw new Error(
    'this host has no podman bridge address (cni-podman0/podman0): run one rootful bridge container once to create it',
  );
}

let bridge = '';
let server: Server;
let port = 0;
const hits: string[] = [];

beforeAll(async () => {
  bridge = bridgeAddress();
  server = createServer((s) => {
    hits.push(`${s.remoteAddress}`);
    s.end('HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nhi\n');
  });
  port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bridge, () => resolve((server.address() as AddressInfo).port));
  });
});
afterAll(() => {
  server?.close();
});

describe.each(MODES)('hostile project content [%s]', (as) => {
  const mode = modeLabel(as);
  let box: Sandbox;
  beforeAll(() => {
    box = new Sandbox(as);
  });
  afterAll(() => box?.cleanup());

  const sessions = (): string[] => {
    const dir = join(box.env.XDG_STATE_HOME as string, 'mino', 'sessions');
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  const oneError = (r: MinoResult, code: number, message: RegExp, hint: RegExp): void => {
    expect(r.exitCode, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.match(/^Error: /gm)).toHaveLength(1);
    expect(r.stderr).toMatch(hint);
  };
  const chownToUser = (path: string): void => {
    if (as === 'rootless' && IS_ROOT) {
      const uid = uidOf(ROOTLESS_USER)!;
      chownSync(path, uid, uid);
    }
  };

  it('refuses /run and /etc as the project like as a volume: exit 2, nothing created, unless --allow-system-paths', async () => {
    for (const dir of ['/run', '/etc']) {
      const before = sessions();
      const r = await box.mino(['run', '-p', dir, '--network', 'none', '--image', TEST_IMAGE, '--', 'true']);
      oneError(
        r,
        2,
        new RegExp(`^Error: Refusing to use ${dir} as the project directory: it is the system directory ${dir}$`, 'm'),
        /^Hint: .*pass --allow-system-paths to mount it anyway/m,
      );
      expect(sessions()).toEqual(before);
    }
    const ok = await box.mino([
      'run',
      '-p',
      '/etc',
      '--allow-system-paths',
      '--dry-run',
      '--image',
      TEST_IMAGE,
      '--',
      'true',
    ]);
    expect(ok.exitCode, ok.stderr).toBe(0);
  });

  it.runIf(as === 'self' && IS_ROOT)(
    "as root, refuses another user's home as a volume and as the project unless --allow-home",
    async () => {
      const other = `/home/${ROOTLESS_USER}`;
      const project = box.project('home-guard');
      const v = await box.mino([
        'run',
        '-p',
        project,
        '--network',
        'none',
        '--image',
        TEST_IMAGE,
        '--volume',
        `${other}:/h:ro`,
        '--',
        'true',
      ]);
      oneError(
        v,
        2,
        new RegExp(`host path ${other}: it is the home directory of user ${ROOTLESS_USER}`),
        /^Hint: .*pass --allow-home/m,
      );
      const p = await box.mino(['run', '-p', other, '--network', 'none', '--image', TEST_IMAGE, '--', 'true']);
      oneError(
        p,
        2,
        new RegExp(
          `Refusing to use ${other} as the project directory: it is the home directory of user ${ROOTLESS_USER}`,
        ),
        /^Hint: .*--allow-home/m,
      );
      const ok = await box.mino([
        'run',
        '-p',
        project,
        '--allow-home',
        '--dry-run',
        '--image',
        TEST_IMAGE,
        '--volume',
        `${other}:/h:ro`,
        '--',
        'true',
      ]);
      expect(ok.exitCode, ok.stderr).toBe(0);
    },
  );

  it("refuses a .mino.toml that links to another project's trusted file instead of applying it unasked", async () => {
    const a = box.project('trusted-a');
    writeFileSync(join(a, '.mino.toml'), '[container]\nnetwork = "host"\n');
    chownToUser(join(a, '.mino.toml'));
    const trust = await box.mino(['trust', '-p', a]);
    expect(trust.exitCode, trust.stderr).toBe(0);
    const b = box.project('linked-b');
    symlinkSync(join(a, '.mino.toml'), join(b, '.mino.toml'));
    const r = await box.mino(['run', '-p', b, '--dry-run', '--image', TEST_IMAGE, '--', 'true']);
    oneError(
      r,
      1,
      /^Error: Project config .*linked-b\/\.mino\.toml is a symbolic link; mino reads and writes only regular files in a project$/m,
      /^Hint: Replace it with a regular file .* or pass --no-local/m,
    );
    expect(r.stdout).not.toContain('--network host');
    const t = await box.mino(['trust', '-p', b]);
    oneError(t, 1, /is a symbolic link/, /^Hint: /m);
  });

  it('config set --local never reads or writes through a .mino.toml link to a host file', async () => {
    const secret = join(box.root, `secret-${mode}.toml`);
    writeFileSync(secret, '# host secret\n[container]\nenv = { TOKEN = "s3cret" }\n');
    chownToUser(secret);
    const project = box.project('set-local');
    symlinkSync(secret, join(project, '.mino.toml'));
    const r = await box.mino(['config', 'set', '--local', '-p', project, 'container.network_allow', 'example.com:443']);
    oneError(r, 1, /Project config .*\.mino\.toml is a symbolic link/, /^Hint: /m);
    expect(lstatSync(join(project, '.mino.toml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(secret, 'utf8')).toBe('# host secret\n[container]\nenv = { TOKEN = "s3cret" }\n');
  });

  it('a lockfile that is a FIFO or a link to /dev/zero costs its cache, with a warning, and the run goes on', async () => {
    const project = box.project('lockfiles');
    execFileSync('mkfifo', ['-m', '0644', join(project, 'package-lock.json')]);
    symlinkSync('/dev/zero', join(project, 'yarn.lock'));
    const r = await box.mino(
      ['run', '-p', project, '--network', 'none', '--no-home', '--image', TEST_IMAGE, '--', 'sh', '-c', 'exit 7'],
      60_000,
    );
    expect(r.exitCode, r.stderr).toBe(7);
    expect(r.stderr).toContain(
      'Warning: package-lock.json is not a regular file; mino reads only regular project files of bounded size, so npm gets no dependency cache this run',
    );
    expect(r.stderr).toContain('Warning: yarn.lock is a symbolic link;');
    expect(r.stderr).not.toMatch(/^Error: /m);
  }, 90_000);

  it('--network learn --save: the bridge address is the host, and a .mino.toml link the agent planted is neither followed nor replaced', async () => {
    const secret = join(box.root, `learn-secret-${mode}.toml`);
    writeFileSync(secret, '# host secret\n');
    chownToUser(secret);
    const project = box.project('learn-save');
    ownProject(project, as); // the agent can write it (rootful: the image user acts as its owner)
    const before = hits.length;
    const r = await box.mino(
      [
        'run',
        '-p',
        project,
        '--image',
        TEST_IMAGE,
        '--no-home',
        '--network',
        'learn',
        '--save',
        '--',
        'sh',
        '-c',
        `ln -s ${secret} .mino.toml; if timeout 10 wget -q -O /dev/null http://${bridge}:${port}/learn 2>/dev/null; then echo reached; else echo blocked; fi`,
      ],
      90_000,
    );
    expect(r.stdout.trim(), r.stderr).toBe('blocked');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(hits.length).toBe(before);
    expect(lstatSync(join(project, '.mino.toml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(secret, 'utf8')).toBe('# host secret\n');
    expect(r.stderr).not.toContain(`Saved network_allow`);
  }, 120_000);

  it('--network-allow naming the bridge address is refused up front: exit 2, nothing started', async () => {
    const project = box.project('allow-bridge');
    const before = sessions();
    const r = await box.mino(
      [
        'run',
        '-p',
        project,
        '--image',
        TEST_IMAGE,
        '--no-home',
        '--network-allow',
        `${bridge}:${port}`,
        '--',
        'sh',
        '-c',
        `wget -q -O /dev/null http://${bridge}:${port}/allow`,
      ],
      90_000,
    );
    oneError(
      r,
      2,
      new RegExp(
        `^Error: Invalid network rule '${bridge.replace(/\./g, '\\.')}:${port}': it names an address of this machine`,
        'm',
      ),
      /^Hint: /m,
    );
    expect(hits).toEqual([]);
    expect(sessions()).toEqual(before);
  }, 120_000);
});
