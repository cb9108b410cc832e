import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { DEFAULT_POOL_SETTINGS } from '../../../src/pool/pool-settings.js';
import { kubeRender } from '../../../src/run/kube-render.js';
import type { HostFacts, RunRequest } from '../../../src/run/run-request.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

const IMAGE = 'localhost/mino-base:latest';

/** `mino kube render` on the recording fake runtime: the run's plan, rendered; nothing created or started. */
describe('kubeRender (fake runtime)', () => {
  let root: string;
  let project: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  let said: string[];
  let written: string;

  const facts = (): HostFacts => ({
    pid: process.pid,
    uid: 1000,
    gid: 1000,
    homeDir: '/home/alice',
    userHomes: [],
    rootless: true,
    cgroupV1: false,
    stdinIsTty: false,
    envLayers: undefined,
    envImage: undefined,
    localEngine: true,
    env: { KUBE_TOKEN: 'not-in-the-output' },
  });
  const request = (o: Partial<RunRequest> = {}): RunRequest => ({
    name: 'k1',
    projectDir: project,
    env: ['PLAIN=1', 'KUBE_TOKEN'],
    volumes: [],
    detach: false,
    readOnly: false,
    allowHome: false,
    command: ['npm', 'test'],
    dryRun: false,
    noCache: true,
    network: 'none',
    credentials: { github: false, passthrough: false, sshAgent: false, shareLogins: false, agentSettings: false },
    pool: { ...DEFAULT_POOL_SETTINGS },
    ...o,
  });
  const render = (o: Partial<RunRequest> = {}, format: 'yaml' | 'json' = 'yaml'): Promise<number> =>
    kubeRender(
      ctx,
      request(o),
      facts(),
      {
        say: (l) => void said.push(l),
        write: (t) => {
          written += t;
        },
      },
      { format, form: 'pod', claims: false, warm: 0, projectRepo: '' },
    );

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-kube-render-'));
    project = join(root, 'proj');
    mkdirSync(project);
    const state = join(root, 'state');
    engine = new FakeRuntime();
    engine.addImage(IMAGE);
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
      dataDir: join(root, 'data'),
      sessionEnvDir: join(root, 'session-env'),
    };
    said = [];
    written = '';
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('prints the Pod of the plan mino run would run, with the secret variable by name only', async () => {
    expect(await render()).toBe(0);
    expect(written).toMatch(/^# mino kube render: the Pod of session k1/);
    expect(written).toMatch(/^kind: Pod$/m);
    expect(written).toMatch(/^ {4}- npm\n {4}- test$/m);
    expect(written).toMatch(/- name: KUBE_TOKEN\n {6}valueFrom:\n {8}secretKeyRef:/);
    expect(written).toMatch(/^ {2}KUBE_TOKEN: ""$/m);
    expect(written).not.toContain('not-in-the-output');
    expect(written).toContain('--network=none');
    expect(said.join('\n')).toMatch(/Note: Fill in the values of the Secret mino-k1-env \(KUBE_TOKEN\)/);
    // Planned like --dry-run: no container, volume or session record.
    const made = engine.callNames().filter((m) => /^(run|create|start|exec|remove)|Volume$|^build/i.test(m));
    expect(made).toEqual([]);
    expect(existsSync(join(root, 'session-env'))).toBe(false);
  });

  it('prints JSON as one List', async () => {
    expect(await render({}, 'json')).toBe(0);
    const list = JSON.parse(written) as { kind: string; items: { kind: string }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => i.kind)).toEqual(['Secret', 'NetworkPolicy', 'Pod']);
  });

  it('refuses bad run flags as mino run does (exit 2), printing nothing', async () => {
    for (const bad of [{ network: 'bogus' }, { volumes: ['./rel:/x'] }, { name: 'no/slash' }, { env: ['1BAD=x'] }]) {
      written = '';
      await expect(render(bad), JSON.stringify(bad)).rejects.toMatchObject({ exitCode: 2 });
      expect(written).toBe('');
    }
  });
});
