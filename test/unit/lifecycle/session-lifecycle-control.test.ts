import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcSessions } from '../../../src/lifecycle/gc-sessions.js';
import { sandboxStats } from '../../../src/lifecycle/sandbox-stats.js';
import {
  type SessionStateError,
  SuspendUnsupportedError,
  attachSession,
  detachSession,
  resumeSession,
  suspendSession,
} from '../../../src/lifecycle/session-control.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { sweepSessions } from '../../../src/lifecycle/sweep-sessions.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { MinoError } from '../../../src/common/errors.js';
import { processIdentity } from '../../../src/common/process-identity.js';
import { addWarmEntry } from '../../../src/pool/pool-index.js';
import { bumpCounters, readCounters } from '../../../src/session/sandbox-counters.js';
import type { SweepSettings } from '../../../src/session/timeouts.js';
import { LABEL_OWNER_PID, LABEL_POOL, LABEL_SESSION, LABEL_STATE } from '../../../src/session/session-labels.js';
import { newSessionRecord, type SessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime, fakeContainer, type FakeContainer } from '../../helpers/fake-runtime.js';

const DEFAULTS: SweepSettings = { idleSecs: 300, detachSecs: 3600, suspendSecs: 86400, autoCleanupHours: 720 };
const DEAD_PID = 2 ** 22 + 12345; // above pid_max: never alive

describe('session lifecycle use cases on the fake runtime', () => {
  let state: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-lifecycle-'));
    engine = new FakeRuntime();
    engine.engineInfo = { ...engine.engineInfo, rootless: false };
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, true),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  /** A detached session `name` with a container in `containerState`, created `ageSecs` ago. */
  function session(
    name: string,
    containerState: FakeContainer['state'] = 'running',
    ageSecs = 0,
    patch: Partial<SessionRecord> = {},
  ): FakeContainer {
    const at = new Date(Date.now() - ageSecs * 1000);
    ctx.store.create({
      ...newSessionRecord(
        {
          name,
          projectDir: '/p',
          command: ['sh'],
          containerId: `mino-${name}`,
          status: 'running',
          ownerPid: DEAD_PID,
          mode: 'detached',
        },
        at,
      ),
      ...patch,
    });
    const c = fakeContainer(`mino-${name}`, containerState, {
      [LABEL_SESSION]: name,
      [LABEL_STATE]: ctx.stateKey,
      [LABEL_OWNER_PID]: String(DEAD_PID),
    });
    engine.containers.push(c);
    return c;
  }
  const audit = (): string[] => {
    try {
      return readFileSync(join(state, 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { event: string }).event);
    } catch {
      return [];
    }
  };
  const changes = (): string[] =>
    engine.callNames().filter((m) => ['pause', 'unpause', 'attach', 'stop', 'kill', 'remove'].includes(m));

  describe('suspend and resume', () => {
    it('suspend pauses the container and records it; resume unpauses', async () => {
      session('a');
      await suspendSession(ctx, 'a');
      expect(engine.containers[0]?.state).toBe('paused');
      expect(ctx.store.get('a')?.suspended_at).toEqual(expect.any(String));
      await resumeSession(ctx, 'a');
      expect(engine.containers[0]?.state).toBe('running');
      expect(ctx.store.get('a')).toMatchObject({ suspended_at: null, detached_at: expect.any(String) });
      expect(audit()).toEqual(['session.suspended', 'session.resumed']);
    });

    it.each([
      ['an unknown session', () => undefined, /Session 'nope' not found/, 'nope'],
      [
        'a stopped session',
        () =>
          ctx.store.create(
            newSessionRecord({
              name: 'a',
              projectDir: '/p',
              command: ['sh'],
              containerId: null,
              status: 'stopped',
              ownerPid: DEAD_PID,
              mode: 'detached',
            }),
          ),
        /it has ended \(status: stopped\)/,
        'a',
      ],
      ['an already suspended session', () => session('a', 'paused'), /already suspended/, 'a'],
    ])('suspend of %s: exit 2, nothing changed', async (_what, setup, message, name) => {
      setup();
      const before = ctx.store.get(name);
      const err = await suspendSession(ctx, name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MinoError);
      expect((err as SessionStateError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(message);
      expect(changes()).toEqual([]);
      expect(ctx.store.get(name)).toEqual(before);
      expect(audit()).toEqual([]);
    });

    it('suspend where rootless podman on cgroup v1 cannot pause: one error with the reason, exit 1, nothing tried', async () => {
      engine.engineInfo = { ...engine.engineInfo, rootless: true, cgroupVersion: 'v1' };
      session('a');
      const err = await suspendSession(ctx, 'a').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SuspendUnsupportedError);
      expect((err as SuspendUnsupportedError).exitCode).toBe(1);
      expect((err as Error).message).toBe(
        "Cannot suspend session 'a': rootless Podman cannot pause containers on a cgroup v1 host (a rootless container has no cgroup of its own to freeze)",
      );
      expect(changes()).toEqual([]);
      expect(ctx.store.get('a')?.suspended_at).toBeUndefined();
      expect(engine.containers[0]?.state).toBe('running');
    });

    it.each([
      ['an unknown session', undefined, /not found/],
      ['a running (not suspended) session', 'running', /is not suspended/],
    ] as const)('resume of %s: exit 2, nothing changed', async (_what, containerState, message) => {
      if (containerState) session('a', containerState);
      const err = await resumeSession(ctx, 'a').catch((e: unknown) => e);
      expect((err as SessionStateError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(message);
      expect(changes()).toEqual([]);
    });
  });

  describe('attach and detach', () => {
    it('attach records this process as the client while attached, then the detach time', async () => {
      session('a');
      let during: SessionRecord | undefined;
      engine.on('attach', () => {
        during = ctx.store.get('a');
        return 0;
      });
      const outcome = await attachSession(ctx, 'a', { detachKeys: 'ctrl-p,ctrl-q' });
      expect(during?.attached_by).toBe(processIdentity());
      expect(outcome).toMatchObject({ detached: true, exitCode: null });
      expect(ctx.store.get('a')).toMatchObject({ attached_by: null, detached_at: expect.any(String) });
      expect(engine.calls.find((c) => c.method === 'attach')?.args[1]).toMatchObject({ detachKeys: 'ctrl-p,ctrl-q' });
      expect(audit()).toEqual(['session.attached', 'session.detached']);
    });

    it('attach reports the end of a command that exits while attached', async () => {
      const c = session('a');
      engine.on('attach', () => {
        Object.assign(c, { state: 'exited', exitCode: 3 });
        return 3;
      });
      const outcome = await attachSession(ctx, 'a', { detachKeys: '' });
      expect(outcome).toMatchObject({ detached: false, exitCode: 3 });
      expect(ctx.store.get('a')).toMatchObject({ status: 'stopped', exit_code: 3 });
    });

    it.each([
      ['an unknown session', () => undefined, /not found/],
      ['a suspended session', () => session('a', 'paused'), /it is suspended/],
      [
        'a session another client is attached to',
        () => session('a', 'running', 0, { attached_by: processIdentity() }),
        /already has a client attached/,
      ],
    ])('attach to %s: exit 2, nothing changed', async (_what, setup, message) => {
      setup();
      const before = ctx.store.get('a');
      const err = await attachSession(ctx, 'a', { detachKeys: 'ctrl-p,ctrl-q' }).catch((e: unknown) => e);
      expect((err as SessionStateError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(message);
      expect(changes()).toEqual([]);
      expect(ctx.store.get('a')).toEqual(before);
    });

    it('detach with no client attached: exit 2', async () => {
      session('a');
      const err = await detachSession(ctx, 'a').catch((e: unknown) => e);
      expect((err as SessionStateError).exitCode).toBe(2);
      expect((err as Error).message).toBe("No client is attached to session 'a'");
    });
  });

  describe('the timeout sweep', () => {
    it('expires an idle session (no client, no output), records session.expired and counts it', async () => {
      session('quiet', 'running', 400);
      const out = await sweepSessions(ctx, DEFAULTS);
      expect(out.expired).toEqual([
        expect.objectContaining({ name: 'quiet', reason: 'idle', timeoutSecs: 300, exitCode: 143 }),
      ]);
      expect(ctx.store.get('quiet')).toMatchObject({ status: 'stopped', exit_code: 143 });
      expect(engine.containers).toEqual([]);
      expect(audit()).toEqual(['session.expired']);
      expect(readCounters(state).timeout_destroys).toBe(1);
    });

    it('keeps an idle-looking session that printed something recently, and remembers when', async () => {
      const c = session('busy', 'running', 400);
      c.lastOutput = new Date(Date.now() - 5000);
      const out = await sweepSessions(ctx, DEFAULTS);
      expect(out.expired).toEqual([]);
      expect(out.kept).toEqual([{ name: 'busy', reason: expect.stringMatching(/^printed output at /) }]);
      expect(ctx.store.get('busy')?.last_output_at).toBe(c.lastOutput.toISOString());
      // The next sweep decides from the file alone: no engine call.
      engine.clearCalls();
      await sweepSessions(ctx, DEFAULTS);
      expect(engine.callNames()).toEqual([]);
    });

    it('expires a session detached too long and a suspended one (thawed before the stop)', async () => {
      const busy = session('long', 'running', 4000);
      busy.lastOutput = new Date();
      session('frozen', 'paused', 90_000, { suspended_at: new Date(Date.now() - 86_401_000).toISOString() });
      const out = await sweepSessions(ctx, DEFAULTS);
      expect(out.expired.map((e) => [e.name, e.reason]).sort()).toEqual([
        ['frozen', 'suspended'],
        ['long', 'detached'],
      ]);
      expect(engine.callNames()).toContain('unpause');
      expect(readCounters(state).timeout_destroys).toBe(2);
    });

    it('a dry run reports and changes nothing; a fresh session costs no engine call', async () => {
      session('quiet', 'running', 400);
      session('fresh', 'running', 1);
      const out = await sweepSessions(ctx, DEFAULTS, { dryRun: true });
      expect(out.expired.map((e) => e.name)).toEqual(['quiet']);
      expect(changes()).toEqual([]);
      expect(ctx.store.get('quiet')?.status).toBe('running');
    });

    it('forgets ended sessions older than auto_cleanup_hours', async () => {
      ctx.store.create({
        ...newSessionRecord({
          name: 'old',
          projectDir: '/p',
          command: ['sh'],
          containerId: null,
          status: 'stopped',
          ownerPid: DEAD_PID,
          mode: 'detached',
        }),
        updated_at: new Date(Date.now() - 721 * 3600_000).toISOString(),
      });
      const out = await sweepSessions(ctx, DEFAULTS);
      expect(out.forgotten).toEqual(['old']);
      expect(ctx.store.get('old')).toBeUndefined();
      expect(engine.callNames()).toEqual([]);
    });

    it('gc sweeps too and leaves warm pool containers alone', async () => {
      session('quiet', 'running', 400);
      engine.containers.push(
        fakeContainer(`mino.warm.${'b'.repeat(12)}.${'c'.repeat(8)}`, 'running', {
          [LABEL_POOL]: 'k1',
          [LABEL_STATE]: ctx.stateKey,
          [LABEL_OWNER_PID]: String(DEAD_PID),
        }),
      );
      const result = await gcSessions(ctx, false, DEFAULTS);
      expect(result.sweep.expired.map((e) => e.name)).toEqual(['quiet']);
      expect(result.removed).toEqual([]);
      expect(engine.containers.map((c) => c.name)).toEqual([`mino.warm.${'b'.repeat(12)}.${'c'.repeat(8)}`]);
    });
  });

  describe('stats', () => {
    it('counts states from the records, the pool from its index files, rates from the counters, without podman', () => {
      session('d1');
      session('d2', 'paused', 0, { suspended_at: new Date().toISOString() });
      session('a1', 'running', 0, { attached_by: processIdentity() });
      ctx.store.create(
        newSessionRecord({
          name: 'gone',
          projectDir: '/p',
          command: ['sh'],
          containerId: null,
          status: 'stopped',
          ownerPid: DEAD_PID,
          mode: 'detached',
        }),
      );
      // The warm pool's index (src/pool/pool-index.ts): one live entry, one expired, one torn.
      const key = 'a'.repeat(24);
      const soon = Math.floor(Date.now() / 1000) + 600;
      const entry = (n: string, expires: number) => ({
        name: `mino.warm.${'a'.repeat(12)}.${n.repeat(8)}`,
        id: n.repeat(64),
        image_id: 'f'.repeat(64),
        expires_at: expires,
        created_at: Date.now(),
      });
      addWarmEntry(state, key, entry('1', soon));
      addWarmEntry(state, key, entry('2', soon - 1200)); // expired: gone by itself
      writeFileSync(join(state, 'pool', key, 'warm', 'mino.warm.torn.json'), '{"torn');
      bumpCounters(state, {
        sandboxes_created: 4,
        creation_ms_total: 1000,
        pool_hits: 1,
        pool_misses: 3,
        timeout_destroys: 2,
      });
      const { stats } = sandboxStats(ctx);
      expect(stats).toEqual({
        sandboxes_created: 4,
        active_sandboxes: 3,
        active_sessions: 1,
        detached_sessions: 1,
        suspended_sessions: 1,
        pool_size: 1,
        pool_hit_rate: 0.25,
        avg_creation_time_ms: 250,
        timeout_destroys: 2,
      });
      expect(engine.callNames()).toEqual([]);
    });

    it('null rates before anything happened', () => {
      expect(sandboxStats(ctx).stats).toMatchObject({
        pool_size: 0,
        pool_hit_rate: null,
        avg_creation_time_ms: null,
        sandboxes_created: 0,
      });
    });
  });
});
