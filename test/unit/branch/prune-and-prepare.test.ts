import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { prepareBranch, removeProbe } from '../../../src/branch/prepare-branch.js';
import { pruneBranches } from '../../../src/branch/prune-branches.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { reconcileSessions } from '../../../src/lifecycle/reconcile-sessions.js';
import { LABEL_OWNER_PID, LABEL_SESSION, LABEL_STATE } from '../../../src/session/session-labels.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { homeVolumeName } from '../../../src/volume/home-volume.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';

/**
 * The branch use cases on the recording fake runtime (git is real): prepareBranch makes copies
 * and refuses a branch a running session uses; pruneBranches removes a merged,
 * clean, ended copy with its home volume and keeps every other one, saying why.
 */

const root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-branch-uc-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function world(): { ctx: SessionContext; engine: FakeRuntime; repo: string } {
  const base = mkdtempSync(join(root, 'w-'));
  const state = join(base, 'state');
  mkdirSync(state);
  const engine = new FakeRuntime();
  const ctx: SessionContext = {
    runtime: engine,
    store: new SessionStore(state),
    audit: new AuditLog(state, false),
    stateDir: state,
    stateKey: stateKeyFor(state),
    dataDir: join(base, 'data'),
  };
  const repo = join(base, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'a.txt'), 'a\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  return { ctx, engine, repo };
}

const quiet = { dryRun: false, say: () => undefined };

/** A session record on the copy, as recordStarting writes it (`status`: its state now). */
function record(ctx: SessionContext, name: string, copy: string, status: 'running' | 'stopped'): void {
  ctx.store.create(
    newSessionRecord({
      name,
      projectDir: copy,
      command: ['true'],
      containerId: `mino-${name}`,
      status,
      ownerPid: process.pid,
      mode: 'command',
      branch: name,
    }),
  );
}

describe('prepareBranch', () => {
  it('makes a copy, refuses a branch a live session is on; a dry run leaves nothing behind', async () => {
    const { ctx, repo } = world();
    // A dry run plans on a stand-in copy, removed afterwards.
    const dry = await prepareBranch(ctx, repo, 'x', 'x', { dryRun: true, say: () => undefined });
    expect(dry?.probe?.copy).toMatch(/\/\.warm\/probe-\d+-[0-9a-f]{8}\/repo$/);
    expect(existsSync(join(dry!.probe!.copy, 'a.txt'))).toBe(true);
    expect(existsSync(dry!.paths.copy)).toBe(false);
    removeProbe(dry);
    expect(existsSync(join(ctx.dataDir!, 'branches'))).toBe(false);
    const lines: string[] = [];
    const made = await prepareBranch(ctx, repo, 'x', 'x', { dryRun: false, say: (l) => lines.push(l) });
    expect(made?.plan).toMatchObject({ name: 'x', hostProjectDir: repo, objectsDir: join(repo, '.git', 'objects') });
    expect(lines[0]).toMatch(/^Branch mino\/x: a new working copy from main/);
    record(ctx, 'x', made!.paths.copy, 'running');
    const err = await prepareBranch(ctx, repo, 'x', 'y', quiet).then(
      () => undefined,
      (e: unknown) => e as { exitCode: number; message: string },
    );
    expect(err).toMatchObject({ exitCode: 2 });
    expect(err?.message).toContain('in use by the running session x');
  });
});

describe('pruneBranches', () => {
  it('removes only the merged, clean, ended copy (and its home volume); keeps the others with the reason', async () => {
    const { ctx, engine, repo } = world();
    const copies: Record<string, string> = {};
    for (const name of ['merged', 'dirty', 'unmerged', 'running']) {
      copies[name] = (await prepareBranch(ctx, repo, name, name, quiet))!.paths.copy;
      record(ctx, name, copies[name]!, name === 'running' ? 'running' : 'stopped');
    }
    // The running session's container is there for the reconciliation.
    engine.containers.push(fakeContainer('mino-running', 'running'));
    writeFileSync(join(copies.merged!, 'm.txt'), 'm\n');
    git(copies.merged!, 'add', '.');
    git(copies.merged!, 'commit', '-qm', 'm');
    writeFileSync(join(copies.unmerged!, 'u.txt'), 'u\n');
    git(copies.unmerged!, 'add', '.');
    git(copies.unmerged!, 'commit', '-qm', 'u');
    writeFileSync(join(copies.dirty!, 'd.txt'), 'd\n');
    const volume = homeVolumeName(copies.merged!);
    await engine.volumeCreate(volume, {});
    // The merged branch is merged once its work came home (the prune's first step) and HEAD took it.
    await pruneBranches(ctx, { dryRun: false }); // brings every copy's work home; nothing is merged yet
    git(repo, 'merge', '-q', '--ff-only', 'mino/merged');
    const outcomes = await pruneBranches(ctx);
    const by = Object.fromEntries(outcomes.map((o) => [o.branch, o]));
    expect(by['mino/merged']).toMatchObject({ removed: true });
    expect(existsSync(copies.merged!)).toBe(false);
    expect(await engine.volumeInspect(volume)).toBeUndefined();
    expect(by['mino/dirty']).toMatchObject({ removed: false, reason: 'it has uncommitted work' });
    expect(by['mino/unmerged']?.reason).toMatch(/mino\/unmerged is not merged/);
    expect(by['mino/running']?.reason).toBe('session running is running on it');
    for (const kept of ['dirty', 'unmerged', 'running']) expect(existsSync(copies[kept]!)).toBe(true);
  });
});

describe('a detached branch session that ended by itself', () => {
  it('brings its work home at the next reconciliation (mino list, gc, …)', async () => {
    const { ctx, engine, repo } = world();
    const copy = (await prepareBranch(ctx, repo, 'solo', 'solo', quiet))!.paths.copy;
    ctx.store.create(
      newSessionRecord({
        name: 'solo',
        projectDir: copy,
        command: ['true'],
        containerId: 'mino-solo',
        status: 'running',
        ownerPid: 2 ** 22 + 1,
        mode: 'detached',
        branch: 'solo',
      }),
    );
    engine.containers.push(
      fakeContainer(
        'mino-solo',
        'exited',
        { [LABEL_SESSION]: 'solo', [LABEL_STATE]: ctx.stateKey, [LABEL_OWNER_PID]: String(2 ** 22 + 1) },
        { exitCode: 0 },
      ),
    );
    writeFileSync(join(copy, 's.txt'), 's\n');
    git(copy, 'add', '.');
    git(copy, 'commit', '-qm', 'solo');
    const { sessions } = await reconcileSessions(ctx);
    expect(sessions.find((x) => x.name === 'solo')?.status).toBe('stopped');
    expect(git(repo, 'log', '--format=%s', 'mino/solo')).toBe('solo\ninit');
  });
});
