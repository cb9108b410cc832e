import { describe, expect, it, vi } from 'vitest';
import { LABEL_OWNER_PID, LABEL_SESSION, LABEL_STATE } from '../../../src/session/session-labels.js';
import type { ContainerState, ContainerSummary } from '../../../src/runtime/container-runtime.js';
import { containerOf, planReconcile, statusForExit, type ReconcilePlan } from '../../../src/session/reconcile.js';
import { newSessionRecord, type SessionRecord, type SessionStatus } from '../../../src/session/session-record.js';

/** Key of "our" state directory; OTHER is a second state dir (another user, a parallel test run). */
const STATE = 'a1b2c3d4e5f6';
const OTHER = '0f9e8d7c6b5a';

const DEAD = 4_000_001;
const ALIVE = 4_000_002;
const ALIVE_2 = 4_000_003;

/** Liveness oracle: only ALIVE and ALIVE_2 exist. Records every PID it was asked about. */
function oracle(live: readonly number[] = [ALIVE, ALIVE_2]): { alive: (pid: number) => boolean; asked: number[] } {
  const asked: number[] = [];
  const alive = (pid: number): boolean => {
    asked.push(pid);
    return live.includes(pid);
  };
  return { alive, asked };
}

interface SessionOpts {
  containerId?: string | null;
  ownerPid?: number | null | 'absent';
  mode?: string;
}

function session(name: string, status: SessionStatus, opts: SessionOpts = {}): SessionRecord {
  const r = newSessionRecord({
    name,
    projectDir: '/srv/app',
    command: ['sleep', '60'],
    containerId: opts.containerId === undefined ? `mino-${name}` : opts.containerId,
    status,
    ownerPid: 1,
    mode: opts.mode ?? 'command',
  });
  if (opts.ownerPid === 'absent') delete r.owner_pid;
  else r.owner_pid = opts.ownerPid === undefined ? DEAD : opts.ownerPid;
  return r;
}

/** A 64-hex container ID that starts with `prefix` (hex digits). */
function cid(prefix: string): string {
  return prefix.padEnd(64, '0');
}

interface ContainerOpts {
  name?: string;
  state?: ContainerState;
  exitCode?: number;
  /** Session label (default: derived from the name). null: no label. */
  session?: string | null;
  /** Owner PID label value (default: DEAD). null: no label. */
  owner?: string | null;
  /** State-dir label (default: STATE). null: no label. */
  stateKey?: string | null;
}

function container(id: string, opts: ContainerOpts = {}): ContainerSummary {
  const name = opts.name ?? `mino-${id.slice(0, 6)}`;
  const labels: Record<string, string> = {};
  const sessionLabel = opts.session === undefined ? name.replace(/^mino-/, '') : opts.session;
  if (sessionLabel !== null) labels[LABEL_SESSION] = sessionLabel;
  const owner = opts.owner === undefined ? String(DEAD) : opts.owner;
  if (owner !== null) labels[LABEL_OWNER_PID] = owner;
  const key = opts.stateKey === undefined ? STATE : opts.stateKey;
  if (key !== null) labels[LABEL_STATE] = key;
  const state = opts.state ?? 'running';
  return {
    id,
    name,
    image: 'localhost/mino-base:latest',
    state,
    labels,
    exitCode: state === 'exited' || state === 'stopped' ? opts.exitCode : undefined,
    createdAt: 1_700_000_000,
  };
}

/** The session's own container: named mino-<session>, labelled for STATE. */
function own(sessionName: string, id: string, opts: Omit<ContainerOpts, 'name'> = {}): ContainerSummary {
  return container(id, {
    ...opts,
    name: `mino-${sessionName}`,
    session: opts.session === undefined ? sessionName : opts.session,
  });
}

function plan(sessions: SessionRecord[], containers: ContainerSummary[], live?: readonly number[]): ReconcilePlan {
  return planReconcile(sessions, containers, STATE, oracle(live).alive);
}

describe('statusForExit', () => {
  it.each([0, 1, 2, 42, 124, 128, 130, 137, 143, 255])(
    'a started command that exited %i is stopped (mino 1.6)',
    (code) => {
      expect(statusForExit(code)).toBe('stopped');
    },
  );

  it.each([125, 126, 127])('exit %i (podman could not start the command) is failed', (code) => {
    expect(statusForExit(code)).toBe('failed');
  });

  it('an unknown exit code is stopped', () => {
    expect(statusForExit(null)).toBe('stopped');
  });
});

describe('containerOf', () => {
  const idA = cid('aaaaaaaaaaaaaaaa');
  const idB = cid('bbbbbbbbbbbbbbbb');

  it('finds the container by the full recorded ID (detached runs record it)', () => {
    const s = session('web', 'running', { containerId: idB });
    const target = container(idB, { name: 'whatever' });
    expect(containerOf(s, [container(idA), target], STATE)).toBe(target);
  });

  it('finds the container by a recorded ID prefix of at least 12 characters', () => {
    const s = session('web', 'running', { containerId: idB.slice(0, 12) });
    const target = container(idB, { name: 'x' });
    expect(containerOf(s, [container(idA), target], STATE)).toBe(target);
  });

  it('does not match an ID prefix shorter than 12 characters', () => {
    const s = session('web', 'running', { containerId: idB.slice(0, 11) });
    expect(containerOf(s, [container(idB, { name: 'x' })], STATE)).toBeUndefined();
  });

  it('does not match when the recorded ID is not a prefix of the container ID', () => {
    const s = session('web', 'running', { containerId: `0${idB.slice(0, 20)}` });
    expect(containerOf(s, [container(idB, { name: 'x' })], STATE)).toBeUndefined();
  });

  it('finds the container by the recorded name (attached runs record mino-<name>)', () => {
    const s = session('web', 'running');
    const target = own('web', idA);
    expect(containerOf(s, [container(idB, { name: 'mino-other' }), target], STATE)).toBe(target);
  });

  it('finds a mino 1.6 container (no labels at all) by its recorded ID', () => {
    const s = session('legacy', 'running', { containerId: idA, ownerPid: 'absent' });
    const target = container(idA, { name: 'eager_turing', session: null, owner: null, stateKey: null });
    expect(containerOf(s, [target], STATE)).toBe(target);
  });

  it('without a recorded container, falls back to mino-<name> labelled with this state directory', () => {
    const s = session('web', 'starting', { containerId: null });
    const target = own('web', idA);
    expect(containerOf(s, [container(idB, { name: 'mino-webby' }), target], STATE)).toBe(target);
  });

  it('falls back to mino-<name> when the recorded container no longer exists', () => {
    const s = session('web', 'running', { containerId: idB });
    const target = own('web', idA);
    expect(containerOf(s, [target], STATE)).toBe(target);
  });

  it('prefers the recorded container over the name fallback', () => {
    const s = session('web', 'running', { containerId: idB });
    const recorded = container(idB, { name: 'recorded' });
    expect(containerOf(s, [own('web', idA), recorded], STATE)).toBe(recorded);
  });

  it('the fallback ignores mino-<name> of another state directory or without a state label', () => {
    const s = session('web', 'starting', { containerId: null });
    expect(containerOf(s, [own('web', idA, { stateKey: OTHER })], STATE)).toBeUndefined();
    expect(containerOf(s, [own('web', idA, { stateKey: null })], STATE)).toBeUndefined();
  });

  it('never takes a container labelled for another state directory, even by recorded name', () => {
    // Container names are global in podman: a session "web" of another XDG_STATE_HOME may now
    // own mino-web. Taking it would let this state dir record (and remove) someone else's run.
    const s = session('web', 'running');
    expect(containerOf(s, [own('web', idA, { stateKey: OTHER })], STATE)).toBeUndefined();
  });

  it('finds nothing in an empty container list', () => {
    expect(containerOf(session('web', 'running'), [], STATE)).toBeUndefined();
  });
});

describe('planReconcile: active sessions', () => {
  const id = cid('c0ffee00c0ffee00');

  it('leaves a running session with a running container alone', () => {
    expect(plan([session('web', 'running', { ownerPid: ALIVE })], [own('web', id)])).toEqual({
      fixes: [],
      orphans: [],
      abandoned: [],
    });
  });

  it('leaves a running detached session alone although its owner (mino run -d) has exited', () => {
    const s = session('bg', 'running', { containerId: id, mode: 'detached' });
    expect(plan([s], [own('bg', id)])).toEqual({ fixes: [], orphans: [], abandoned: [] });
  });

  it('keeps a running attached session whose owner died while its container still runs, and reports it abandoned (gc stops it)', () => {
    const c = own('k9', id);
    expect(plan([session('k9', 'running')], [c])).toEqual({
      fixes: [],
      orphans: [],
      abandoned: [{ name: 'k9', container: c }],
    });
    expect(
      plan([session('k9', 'running', { mode: 'shell' })], [own('k9', id, { state: 'paused' })]).abandoned,
    ).toHaveLength(1);
    expect(plan([session('k9', 'running', { ownerPid: ALIVE })], [c]).abandoned).toEqual([]);
  });

  it('leaves an exited container of a live attached run to its owner (podman is removing it), but not a detached one', () => {
    const exited = own('att', id, { state: 'exited', exitCode: 0 });
    expect(plan([session('att', 'running', { ownerPid: ALIVE, mode: 'command' })], [exited]).fixes).toEqual([]);
    expect(plan([session('att', 'running', { ownerPid: ALIVE, mode: 'shell' })], [exited]).fixes).toEqual([]);
    expect(plan([session('att', 'running', { ownerPid: DEAD, mode: 'command' })], [exited]).fixes).toHaveLength(1);
    expect(plan([session('att', 'running', { ownerPid: ALIVE, mode: 'detached' })], [exited]).fixes).toHaveLength(1);
  });

  it('leaves a running session with a paused container alone', () => {
    expect(plan([session('web', 'running')], [own('web', id, { state: 'paused' })]).fixes).toEqual([]);
  });

  it('marks a running session stopped when its container is gone and its owner is dead', () => {
    expect(plan([session('web', 'running')], []).fixes).toEqual([
      { name: 'web', from: 'running', status: 'stopped', exitCode: null, reason: 'container is gone' },
    ]);
  });

  it('leaves a session whose container is gone alone while its owner lives (an attached run records its own end)', () => {
    expect(plan([session('web', 'running', { ownerPid: ALIVE })], []).fixes).toEqual([]);
    expect(plan([session('web', 'starting', { ownerPid: ALIVE })], []).fixes).toEqual([]);
  });

  it('treats a record without owner PID (mino 1.6) or with a null one as having no live owner', () => {
    for (const ownerPid of ['absent', null] as const) {
      const o = oracle();
      const p = planReconcile([session('old', 'running', { ownerPid, containerId: cid('dead') })], [], STATE, o.alive);
      expect(p.fixes).toEqual([
        { name: 'old', from: 'running', status: 'stopped', exitCode: null, reason: 'container is gone' },
      ]);
      expect(o.asked).toEqual([]);
    }
  });

  it('marks a starting session failed when its owner died before any container existed', () => {
    // The run never got as far as a container, so its command never ran: that is a failed
    // start (like a container left "created"), not a session that stopped.
    const [fix] = plan([session('web', 'starting', { containerId: null })], []).fixes;
    expect(fix).toMatchObject({ name: 'web', from: 'starting', status: 'failed', exitCode: null });
    expect(fix?.removeContainer).toBeUndefined();
  });

  it.each([
    [0, 'stopped'],
    [3, 'stopped'],
    [137, 'stopped'],
    [143, 'stopped'],
    [125, 'failed'],
    [126, 'failed'],
    [127, 'failed'],
  ] as const)('records exit code %i of an exited container as %s and removes the container', (code, status) => {
    const s = session('bg', 'running', { containerId: id, mode: 'detached' });
    expect(plan([s], [own('bg', id, { state: 'exited', exitCode: code })])).toEqual({
      fixes: [
        {
          name: 'bg',
          from: 'running',
          status,
          exitCode: code,
          reason: `container exited with code ${code}`,
          removeContainer: id,
        },
      ],
      orphans: [],
      abandoned: [],
    });
  });

  it('treats podman state "stopped" like "exited"', () => {
    const [fix] = plan([session('bg', 'running')], [own('bg', id, { state: 'stopped', exitCode: 143 })]).fixes;
    expect(fix).toMatchObject({ status: 'stopped', exitCode: 143, removeContainer: id });
  });

  it('records an exited container without a known exit code as stopped with exit code null', () => {
    const [fix] = plan([session('bg', 'running')], [own('bg', id, { state: 'exited' })]).fixes;
    expect(fix).toEqual({
      name: 'bg',
      from: 'running',
      status: 'stopped',
      exitCode: null,
      reason: 'container exited with code unknown',
      removeContainer: id,
    });
  });

  it('records an exited detached container even while its owner lives (the exit code is final)', () => {
    const [fix] = plan(
      [session('web', 'running', { ownerPid: ALIVE, mode: 'detached' })],
      [own('web', id, { state: 'exited', exitCode: 9 })],
    ).fixes;
    expect(fix).toMatchObject({ status: 'stopped', exitCode: 9, removeContainer: id });
  });

  it('records the exit code of a starting session whose container already exited', () => {
    const [fix] = plan(
      [session('bg', 'starting', { containerId: null })],
      [own('bg', id, { state: 'exited', exitCode: 127 })],
    ).fixes;
    expect(fix).toMatchObject({ from: 'starting', status: 'failed', exitCode: 127, removeContainer: id });
  });

  it('marks a session failed and removes its container when it was created but its owner died before starting it', () => {
    expect(plan([session('web', 'running')], [own('web', id, { state: 'created' })]).fixes).toEqual([
      {
        name: 'web',
        from: 'running',
        status: 'failed',
        exitCode: null,
        reason: 'container was never started',
        removeContainer: id,
      },
    ]);
  });

  it('leaves a created container alone while its owner lives (podman run is starting it)', () => {
    expect(plan([session('web', 'starting', { ownerPid: ALIVE })], [own('web', id, { state: 'created' })])).toEqual({
      fixes: [],
      orphans: [],
      abandoned: [],
    });
  });

  it.each(['running', 'paused'] as const)('moves a starting session to running when its container is %s', (state) => {
    expect(plan([session('web', 'starting')], [own('web', id, { state })]).fixes).toEqual([
      { name: 'web', from: 'starting', status: 'running', exitCode: null, reason: 'container is running' },
    ]);
  });

  it.each(['stopping', 'removing', 'configured', 'unknown'] as const)(
    'makes no decision for a container in transient state %s',
    (state) => {
      expect(plan([session('web', 'running')], [own('web', id, { state })])).toEqual({
        fixes: [],
        orphans: [],
        abandoned: [],
      });
    },
  );

  it('asks about the owner PID of the session record', () => {
    const o = oracle();
    planReconcile([session('web', 'running', { ownerPid: ALIVE })], [], STATE, o.alive);
    expect(o.asked).toEqual([ALIVE]);
  });

  it('fixes each session on its own, in session order', () => {
    const ids = [cid('01'), cid('02'), cid('03'), cid('04')];
    const sessions = [
      session('a', 'running'),
      session('b', 'running', { containerId: ids[1]! }),
      session('c', 'starting'),
      session('d', 'running', { ownerPid: ALIVE }),
      session('e', 'running'),
    ];
    const containers = [
      own('b', ids[1]!, { state: 'exited', exitCode: 2 }),
      own('c', ids[2]!, { state: 'running' }),
      own('e', ids[3]!, { state: 'running' }),
    ];
    expect(plan(sessions, containers).fixes.map((f) => [f.name, f.status, f.exitCode])).toEqual([
      ['a', 'stopped', null],
      ['b', 'stopped', 2],
      ['c', 'running', null],
    ]);
  });
});

describe('planReconcile: finished sessions', () => {
  const id = cid('f1f1f1f1f1f1f1f1');

  it.each(['stopped', 'failed'] as const)('never corrects a %s session, whatever its container does', (status) => {
    for (const c of [
      [],
      [own('web', id)],
      [own('web', id, { state: 'exited', exitCode: 1 })],
      [own('web', id, { state: 'created' })],
    ]) {
      expect(plan([session('web', status)], c).fixes).toEqual([]);
    }
  });

  it('does not ask whether the owner of a finished session lives', () => {
    const o = oracle();
    planReconcile([session('web', 'stopped', { ownerPid: ALIVE })], [], STATE, o.alive);
    expect(o.asked).toEqual([]);
  });
});

describe('planReconcile: orphans', () => {
  const idA = cid('0a0a0a0a0a0a0a0a');
  const idB = cid('0b0b0b0b0b0b0b0b');

  it('reports a labelled container without any session file; its dead owner makes it removable', () => {
    const c = own('ghost', idA);
    expect(plan([], [c])).toEqual({
      fixes: [],
      orphans: [{ container: c, sessionName: 'ghost', ownerDead: true }],
      abandoned: [],
    });
  });

  it('reports an orphan whose owner still lives as not dead (gc keeps it)', () => {
    const c = own('ghost', idA, { owner: String(ALIVE) });
    expect(plan([], [c]).orphans).toEqual([{ container: c, sessionName: 'ghost', ownerDead: false }]);
  });

  it.each([[null], [''], ['abc'], ['0'], ['-5'], ['1.5'], ['12abc']])(
    'treats owner label %j as a dead owner, without asking about it',
    (owner) => {
      const o = oracle();
      const c = own('ghost', idA, { owner });
      expect(planReconcile([], [c], STATE, o.alive).orphans).toEqual([
        { container: c, sessionName: 'ghost', ownerDead: true },
      ]);
      expect(o.asked).toEqual([]);
    },
  );

  it('passes the owner label to the liveness check as a number', () => {
    const o = oracle();
    planReconcile([], [own('ghost', idA, { owner: String(ALIVE_2) })], STATE, o.alive);
    expect(o.asked).toEqual([ALIVE_2]);
  });

  it('reports an orphan without a session label with sessionName undefined', () => {
    const c = container(idA, { name: 'mino-x', session: null });
    expect(plan([], [c]).orphans).toEqual([{ container: c, sessionName: undefined, ownerDead: true }]);
  });

  it('ignores containers of another state directory and unlabelled containers', () => {
    const foreign = own('ghost', idA, { stateKey: OTHER });
    const plain = container(idB, { name: 'postgres', session: null, owner: null, stateKey: null });
    expect(plan([], [foreign, plain])).toEqual({ fixes: [], orphans: [], abandoned: [] });
  });

  it('does not report the container of an active session', () => {
    expect(
      plan(
        [session('web', 'running'), session('bg', 'starting', { containerId: null })],
        [own('web', idA), own('bg', idB)],
      ).orphans,
    ).toEqual([]);
  });

  it('reports the leftover container of a finished session', () => {
    const c = own('web', idA);
    expect(plan([session('web', 'stopped')], [c]).orphans).toEqual([
      { container: c, sessionName: 'web', ownerDead: true },
    ]);
  });

  it('does not report the exited container of an active session as orphan too (it is removed by the fix)', () => {
    const c = own('bg', idA, { state: 'exited', exitCode: 0 });
    const p = plan([session('bg', 'running', { containerId: idA })], [c]);
    expect(p.fixes.map((f) => f.removeContainer)).toEqual([idA]);
    expect(p.orphans).toEqual([]);
  });

  it('reports only the containers no active session accounts for, in podman order', () => {
    const a = own('a', idA);
    const b = own('b', idB, { owner: String(ALIVE) });
    const c = own('c', cid('0c'));
    const p = plan([session('b', 'stopped'), session('c', 'running')], [a, b, c]);
    expect(p.orphans.map((o) => [o.sessionName, o.ownerDead])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });
});

describe('planReconcile: several state directories', () => {
  const mine = cid('1111111111111111');
  const theirs = cid('2222222222222222');

  it("never adopts another state directory's container that has the recorded name", () => {
    // Our crashed session "web" (its container is gone) and another state dir's new run "web"
    // that now owns the podman name mino-web.
    const foreign = own('web', theirs, { stateKey: OTHER, state: 'running' });
    const p = plan([session('web', 'running')], [foreign]);
    expect(p.fixes).toEqual([
      { name: 'web', from: 'running', status: 'stopped', exitCode: null, reason: 'container is gone' },
    ]);
    expect(p.orphans).toEqual([]);
  });

  it("never records another state directory's exit code nor removes its container", () => {
    const foreign = own('web', theirs, { stateKey: OTHER, state: 'exited', exitCode: 7 });
    const p = plan([session('web', 'running')], [foreign]);
    expect(p.fixes.map((f) => f.removeContainer)).not.toContain(theirs);
    expect(p.fixes.map((f) => f.exitCode)).not.toContain(7);
  });

  it('uses its own container when both exist', () => {
    const foreign = own('web', theirs, { stateKey: OTHER, state: 'running' });
    const ours = container(mine, { name: 'web-detached', session: 'web', state: 'exited', exitCode: 4 });
    const [fix] = plan([session('web', 'running', { containerId: mine })], [foreign, ours]).fixes;
    expect(fix).toMatchObject({ exitCode: 4, removeContainer: mine });
  });
});

describe('planReconcile is pure', () => {
  it('does not modify its inputs', () => {
    const sessions = [session('a', 'running'), session('b', 'starting'), session('c', 'stopped')].map((s) =>
      Object.freeze(s),
    );
    const containers = [own('b', cid('0b'), { state: 'exited', exitCode: 1 }), own('z', cid('0f'))].map((c) =>
      Object.freeze({ ...c, labels: Object.freeze({ ...c.labels }) }),
    );
    const before = JSON.stringify({ sessions, containers });
    const alive = vi.fn(() => false);
    const first = planReconcile(Object.freeze(sessions), Object.freeze(containers), STATE, alive);
    expect(JSON.stringify({ sessions, containers })).toBe(before);
    expect(planReconcile(sessions, containers, STATE, alive)).toEqual(first);
  });
});
