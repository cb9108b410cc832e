import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { UsageError } from '../../../src/common/errors.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { poolabilityOf } from '../../../src/pool/pool-key.js';
import { listPoolKeys, readPool } from '../../../src/pool/pool-index.js';
import { DEFAULT_POOL_SETTINGS } from '../../../src/pool/pool-settings.js';
import type { HostFacts, RunRequest } from '../../../src/run/run-request.js';
import { runSession } from '../../../src/run/run-session.js';
import { warmRun } from '../../../src/run/warm-run.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import type { ContainerSpec } from '../../../src/runtime/container-runtime.js';

/**
 * Branch sessions and the rest of `mino run` on the recording fake runtime (git is real):
 * `--branch` on another engine is one usage error before anything is made; `mino pool warm
 * --branch` keeps containers warm that mount empty folders of their own, a branch run claims one
 * (its copy moved into that folder, the mounted paths' inodes kept) and its dry run says so.
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

  const repoDir = (): string => readdirSync(branchesDir()).find((n) => !n.startsWith('.'))!;
  const warmCopies = (): string[] => {
    const dir = join(branchesDir(), repoDir(), '.warm');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('pool warm --branch: warm containers with empty folders of their own; a branch run claims one, its copy moved in', async () => {
    // No pool yet: the dry run of a new branch makes nothing that stays, and says the run starts cold.
    expect(await runSession(ctx, request({ dryRun: true }), facts(), io, deps)).toBe(0);
    expect(printed.at(-1)).toMatch(/^# Pool: no warm container for this plan/);
    expect(printed.join('\n')).toMatch(/branches\/[0-9a-f]{12}\/x\/repo:\/repo/);
    expect(existsSync(branchesDir()) ? readdirSync(branchesDir()) : []).toEqual([]);

    expect(await warmRun(ctx, request({ branch: '' }), facts(), io, 2)).toBe(0);
    const [key] = listPoolKeys(ctx.stateDir);
    const record = readPool(ctx.stateDir, key!)!;
    expect(record.branch?.entries.map((e) => e.path)).toEqual(
      expect.arrayContaining(['repo', 'repo/.git', 'repo/.git/config', 'repo/.git/hooks']),
    );
    expect(JSON.stringify(record.spec)).toContain('/@mino-branch-base/repo');
    const names = engine.containers.map((c) => c.name).sort();
    expect(warmCopies().sort()).toEqual(names); // the stand-in copy is gone
    for (const n of names)
      expect(readdirSync(join(branchesDir(), repoDir(), '.warm', n, 'repo')).sort()).toEqual(
        expect.arrayContaining(['.git']),
      );

    // What each warm container mounts at the copy's git config (the inode it has mounted).
    const runs = engine.callsTo('run').map(([spec]) => spec as ContainerSpec);
    const configOf = new Map(
      engine.containers.map((c, i) => {
        const source = runs[i]!.mounts!.find((m) => m.target === '/repo/.git/config')!.source;
        return [c.id, { source, ino: lstatSync(source).ino }];
      }),
    );
    printed = [];
    expect(await runSession(ctx, request({ dryRun: true }), facts(), io, deps)).toBe(0);
    expect(printed.at(-1)).toMatch(/^# Pool: a warm container would serve this run/);

    engine.clearCalls();
    expect(await runSession(ctx, request({ name: 'x' }), facts(), io, deps)).toBe(0);
    expect(engine.callsTo('runAttached')).toEqual([]);
    expect(engine.callsTo('execSession')).toHaveLength(1);
    const claimed = engine.callsTo('execSession')[0]![0] as string;
    // Its folder became the copy: the paths it has mounted are the copy's, same inodes.
    expect(warmCopies()).toHaveLength(1);
    const copy = join(branchesDir(), repoDir(), 'x', 'repo');
    expect(readFileSync(join(copy, 'a.txt'), 'utf8')).toBe('a\n');
    expect(existsSync(configOf.get(claimed)!.source)).toBe(false);
    expect(lstatSync(join(copy, '.git', 'config')).ino).toBe(configOf.get(claimed)!.ino);
    expect(readFileSync(join(copy, '.git', 'config'), 'utf8')).toMatch(/repositoryformatversion/);

    // A second branch gets the other container and a copy of its own.
    engine.clearCalls();
    expect(await runSession(ctx, request({ name: 'y', branch: 'y' }), facts(), io, deps)).toBe(0);
    expect(engine.callsTo('execSession')).toHaveLength(1);
    expect(engine.callsTo('execSession')[0]![0]).not.toBe(claimed);
    expect(warmCopies()).toEqual([]);
  });

  it('a copy that does not fit the claimed container starts cold; the container goes, the copy stays whole', async () => {
    // Branch q's copy, made cold, with a directory where the warm layout has a file (.gitmodules).
    expect(await runSession(ctx, request({ name: 'q', branch: 'q', fresh: true }), facts(), io, deps)).toBe(0);
    const copy = join(branchesDir(), repoDir(), 'q', 'repo');
    mkdirSync(join(copy, '.gitmodules'));
    expect(await warmRun(ctx, request({ branch: '' }), facts(), io, 1)).toBe(0);
    const [warm] = engine.containers;
    const refilled: (string | undefined)[] = [];
    engine.clearCalls();
    const r = await runSession(ctx, request({ name: 'q', branch: 'q' }), facts(), io, {
      ...deps,
      refill: (_k: string, _s: unknown, used?: string) => void refilled.push(used),
    });
    expect(r).toBe(0);
    expect(engine.callsTo('execSession')).toEqual([]);
    expect(engine.callsTo('runAttached')).toHaveLength(1);
    expect(engine.callsTo('renameContainer')).toEqual([]);
    expect(refilled).toContain(warm!.id);
    expect(readFileSync(join(copy, 'a.txt'), 'utf8')).toBe('a\n');
    expect(warmCopies()).toEqual([warm!.name]);
  });

  it('pool warm --branch with a home volume: for one branch only (any branch is refused)', async () => {
    const err = await warmRun(ctx, request({ branch: '', noHome: false }), facts(), io, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/home volume is its branch's own/);
    expect(engine.callsTo('run')).toEqual([]);
    expect(await warmRun(ctx, request({ branch: 'z', noHome: false }), facts(), io, 1)).toBe(0);
    printed = [];
    expect(await runSession(ctx, request({ branch: 'w', noHome: false, dryRun: true }), facts(), io, deps)).toBe(0);
    expect(printed.at(-1)).toMatch(/^# Pool: no warm container/);
    printed = [];
    expect(await runSession(ctx, request({ branch: 'z', noHome: false, dryRun: true }), facts(), io, deps)).toBe(0);
    expect(printed.at(-1)).toMatch(/^# Pool: a warm container would serve this run/);
  });

  it('poolabilityOf: a branch plan is keyed without its working copy’s folder', () => {
    const spec = (b: string) => ({
      image: IMAGE,
      command: ['true'],
      mounts: [{ source: `${b}/repo`, target: '/repo' }],
      labels: { 'io.mino.project': `${b}/repo` },
    });
    const key = (b: string) =>
      poolabilityOf({ mode: 'command', spec: spec(b), branch: { name: 'x' }, projectDir: `${b}/repo` });
    expect(key('/d/branches/k/a')).toEqual(key('/d/branches/k/b'));
    expect(key('/d/branches/k/a').poolable).toBe(true);
    expect(poolabilityOf({ mode: 'command', spec: spec('/d/branches/k/a') })).not.toEqual(key('/d/branches/k/a'));
    expect(poolabilityOf({ mode: 'command', spec: spec('/a'), branch: { name: 'x' } }).poolable).toBe(false);
  });
});
