import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../../../src/common/exec.js';
import type { ContainerRuntime } from '../../../../src/runtime/container-runtime.js';
import { CheckLog } from '../../../../src/app/doctor/check-result.js';
import { checkStorage } from '../../../../src/app/doctor/storage-check.js';
import type { FixPolicy } from '../../../../src/app/doctor/host-checks.js';

const HOME = '/home/ann';
const CONF = `${HOME}/.config/containers/storage.conf`;
const GRAPH = `${HOME}/.local/share/containers/storage`;

interface FakeHost {
  files: Map<string, string>;
  /** Driver of the store once it exists (created by the first plain podman call). */
  store: { driver: string } | undefined;
  overlayWorks: boolean;
  images: Array<{ Id: string; Names: string[]; Labels: Record<string, string> }>;
  calls: string[][];
  resets: number;
}

function ok(stdout = ''): ExecResult {
  return { stdout, stderr: '', exitCode: 0, signal: null };
}
function fail(stderr: string): ExecResult {
  return { stdout: '', stderr, exitCode: 1, signal: null };
}

/** A podman host simulated at the level of the commands the storage check runs. */
function fakeRuntime(host: FakeHost): ContainerRuntime {
  const configuredDriver = (): string => (/driver = "overlay"/.test(host.files.get(CONF) ?? '') ? 'overlay' : 'vfs');
  const hostExec = (argv: readonly string[], input?: string): Promise<ExecResult> => {
    host.calls.push([...argv]);
    const [cmd, ...args] = argv;
    const env: Record<string, string> = { HOME, XDG_RUNTIME_DIR: '/run/user/1000' };
    switch (cmd) {
      case 'id': return Promise.resolve(ok(args[0] === '-un' ? 'ann\n' : '1000\n'));
      case 'printenv': return Promise.resolve(env[args[0]!] ? ok(`${env[args[0]!]}\n`) : fail(''));
      case 'cat': {
        const text = host.files.get(args[1]!);
        return Promise.resolve(text === undefined ? fail(`cat: ${args[1]}: No such file or directory`) : ok(text));
      }
      case 'test':
        if (args[0] === '-e') return Promise.resolve(host.files.has(args[1]!) || (args[1] === GRAPH && host.store) ? ok() : fail(''));
        return Promise.resolve(ok());
      case 'ldd': return Promise.resolve(fail('not a dynamic executable'));
      case 'sh': return Promise.resolve(ok('/home/ann/.local/share/containers/mino-overlay-probe.x\n/run/user/1000/mino-overlay-probe.y\n'));
      case 'tee': host.files.set(args[1]!, input ?? ''); return Promise.resolve(ok());
      case 'mv': host.files.set(args[3]!, host.files.get(args[2]!) ?? ''); host.files.delete(args[2]!); return Promise.resolve(ok());
      case 'rm': if (args.includes(CONF)) host.files.delete(CONF); return Promise.resolve(ok());
      case 'mkdir': case 'tar': return Promise.resolve(ok());
      case 'podman': break;
      default: return Promise.resolve(fail(`unexpected ${argv.join(' ')}`));
    }
    if (args[0] === '--root') {
      const sub = args[6];
      if (sub === 'info') return Promise.resolve(ok(JSON.stringify({ store: { graphDriverName: 'overlay', graphStatus: { 'Native Overlay Diff': String(host.overlayWorks) } } })));
      if (sub === 'run') return Promise.resolve(host.overlayWorks ? ok() : fail('Error: mounting overlay: operation not permitted'));
      return Promise.resolve(ok());
    }
    if (args[0] === 'system' && args[1] === 'reset') {
      host.resets++;
      host.store = undefined;
      host.images = [];
      return Promise.resolve(ok());
    }
    host.store ??= { driver: configuredDriver() };
    if (args[0] === 'info') return Promise.resolve(ok(JSON.stringify({ store: { graphDriverName: host.store.driver, graphStatus: {} } })));
    if (args[0] === 'images') return Promise.resolve(ok(JSON.stringify(host.images)));
    if (args[0] === 'volume') return Promise.resolve(ok('[]'));
    if (args[0] === 'network') return Promise.resolve(ok('podman\n'));
    return Promise.resolve(ok(''));
  };
  return { name: 'Podman', hostExec } as unknown as ContainerRuntime;
}

function host(partial: Partial<FakeHost>): FakeHost {
  return { files: new Map(), store: undefined, overlayWorks: true, images: [], calls: [], resets: 0, ...partial };
}

function policy(allow: boolean): FixPolicy & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    fixHint: 'Run: mino setup --yes',
    root: { via: undefined, run: () => Promise.resolve(fail('no root')) },
    mayFix(question) {
      asked.push(question);
      return Promise.resolve(allow);
    },
  };
}

const PROBE = { Id: 'a'.repeat(64), Names: ['localhost/mino-probe:1'], Labels: { 'io.mino.probe': 'true' } };
const MINE = { Id: 'b'.repeat(64), Names: ['localhost/mine:1'], Labels: {} };

async function run(h: FakeHost, allow: boolean) {
  const log = new CheckLog();
  const p = policy(allow);
  await checkStorage(log, { runtime: fakeRuntime(h), policy: p, baseFrom: 'docker.io/library/debian:bookworm-slim' });
  return { results: log.results.filter((r) => r.id === 'storage'), asked: p.asked };
}

describe('checkStorage', () => {
  it('writes driver = "overlay" for a fresh user before any plain podman call creates the store', async () => {
    const h = host({});
    const { results } = await run(h, true);
    expect(results).toMatchObject([{ status: 'fixed' }]);
    expect(h.files.get(CONF)).toBe('[storage]\ndriver = "overlay"\n');
    expect(h.store?.driver).toBe('overlay');
    const firstPlainPodman = h.calls.findIndex((c) => c[0] === 'podman' && c[1] !== '--root');
    const write = h.calls.findIndex((c) => c[0] === 'mv');
    expect(write).toBeGreaterThan(-1);
    expect(firstPlainPodman).toBeGreaterThan(write);
  });

  it('only reports on a fresh user without permission (status, --check)', async () => {
    const h = host({});
    const { results } = await run(h, false);
    expect(results).toMatchObject([{ status: 'warn', hint: expect.stringMatching(/mino setup/) }]);
    expect(h.files.has(CONF)).toBe(false);
    expect(h.store).toBeUndefined();
  });

  it('switches a vfs store holding only mino images: writes the driver, then resets', async () => {
    const h = host({ store: { driver: 'vfs' }, images: [PROBE] });
    h.files.set(CONF, '# mine\n[storage.options]\nadditionalimagestores = []\n');
    const { results, asked } = await run(h, true);
    expect(asked).toHaveLength(1);
    expect(h.resets).toBe(1);
    expect(results).toMatchObject([{ status: 'fixed', detail: expect.stringMatching(/overlay/) }]);
    expect(h.files.get(CONF)).toBe('# mine\n[storage.options]\nadditionalimagestores = []\n\n[storage]\ndriver = "overlay"\n');
  });

  it('never resets a store with images of the user: warns with the commands instead', async () => {
    const h = host({ store: { driver: 'vfs' }, images: [PROBE, MINE] });
    const { results, asked } = await run(h, true);
    expect(asked).toEqual([]);
    expect(h.resets).toBe(0);
    expect(h.files.has(CONF)).toBe(false);
    expect(results).toMatchObject([{ status: 'warn', detail: expect.stringMatching(/localhost\/mine:1/), hint: expect.stringMatching(/podman system reset -f/) }]);
  });

  it('says vfs is the only option when overlay does not work, changing nothing', async () => {
    const h = host({ store: { driver: 'vfs' }, images: [PROBE], overlayWorks: false });
    const { results } = await run(h, true);
    expect(h.resets).toBe(0);
    expect(results).toMatchObject([{ status: 'info', detail: expect.stringMatching(/only driver/) }]);
  });

  it('leaves a vfs driver the user set in storage.conf', async () => {
    const h = host({ store: { driver: 'vfs' } });
    h.files.set(CONF, '[storage]\ndriver = "vfs"\n');
    const { results, asked } = await run(h, true);
    expect(asked).toEqual([]);
    expect(results).toMatchObject([{ status: 'info', detail: expect.stringMatching(/set in/) }]);
    expect(h.calls.some((c) => c.includes('--root'))).toBe(false);
  });

  it('reports overlay as ok without probing', async () => {
    const h = host({ store: { driver: 'overlay' } });
    const { results } = await run(h, true);
    expect(results).toMatchObject([{ status: 'ok', detail: 'overlay' }]);
    expect(h.calls.some((c) => c.includes('--root'))).toBe(false);
  });
});
