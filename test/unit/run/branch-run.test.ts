import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { UsageError } from '../../../src/common/errors.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { BRANCH_COLD_REASON, poolabilityOf } from '../../../src/pool/pool-key.js';
import { DEFAULT_POOL_SETTINGS } from '../../../src/pool/pool-settings.js';
import type { HostFacts, RunRequest } from '../../../src/run/run-request.js';
import { runSession } from '../../../src/run/run-session.js';
import { warmRun } from '../../../src/run/warm-run.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

/**
 * Branch sessions and the rest of `mino run` on the recording fake runtime (git is real):
 * `--branch` on another engine is one usage error before anything is made; a branch session is
 * never served warm (its dry run says why), and `mino pool warm --branch` is refused up front.
 */

const IMAGE = 'localhost/mino-base:latest';

function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

describe('branch runs (fake runtime)', () => {
  let root: string;
  let repo: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  let printed: string[];

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
    env: {},
  });
  const request = (o: Partial<RunRequest> = {}): RunRequest => ({
    projectDir: repo,
    env: [],
    volumes: [],
    detach: false,
    readOnly: false,
    allowHome: false,
    command: ['true'],
    dryRun: false,
    noCache: true,
    noHome: true,
    network: 'none',
    branch: 'x',
    credentials: { github: false, passthrough: false, sshAgent: false, shareLogins: false, agentSettings: false },
    pool: { ...DEFAULT_POOL_SETTINGS },
    ...o,
  });
  const io = {
    say: (): void => undefined,
    print: (l: string): void => void printed.push(l),
  };
  const deps = { signals: { on: () => undefined, off: () => undefined }, refill: () => undefined };
  const branchesDir = (): string => join(ctx.dataDir!, 'branches');

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-branch-run-')));
    repo = join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
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
    printed = [];
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('--branch on another engine: one usage error (exit 2), no podman call, no copy, no session', async () => {
    const far = { ...ctx, engine: 'far' };
    for (const extra of [{}, { forkFrom: 'src' }]) {
      const err = await runSession(far, request(extra), facts(), io, deps).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as UsageError).message).toMatch(/cannot run on engine far/);
      expect((err as UsageError).hint).toMatch(/--engine local/);
    }
    expect(engine.calls).toEqual([]);
    expect(existsSync(branchesDir())).toBe(false);
    expect(ctx.store.list().sessions).toEqual([]);
  });

  it('a branch session starts cold even with the pool on; its dry run says why', async () => {
    expect(await runSession(ctx, request({ dryRun: true }), facts(), io, deps)).toBe(0);
    expect(printed.at(-1)).toBe(`# Pool: this run cannot be served warm: ${BRANCH_COLD_REASON}`);
    expect(existsSync(branchesDir())).toBe(false);
    engine.on('runAttached', () => 0);
    expect(await runSession(ctx, request({ name: 'x' }), facts(), io, deps)).toBe(0);
    expect(engine.callsTo('runAttached')).toHaveLength(1);
    expect(engine.callsTo('execSession')).toEqual([]);
  });

  it('mino pool warm --branch is refused before anything is made', async () => {
    const err = await warmRun(ctx, request(), facts(), io, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain(BRANCH_COLD_REASON);
    expect(engine.calls).toEqual([]);
    expect(existsSync(branchesDir())).toBe(false);
  });

  it('poolabilityOf: a plan with a branch is never poolable', () => {
    const p = poolabilityOf({ mode: 'command', spec: { image: IMAGE, command: ['true'] }, branch: { name: 'x' } });
    expect(p).toEqual({ poolable: false, reason: BRANCH_COLD_REASON });
    expect(poolabilityOf({ mode: 'command', spec: { image: IMAGE, command: ['true'] } }).poolable).toBe(true);
  });
});
