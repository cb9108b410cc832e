import { describe, expect, it } from 'vitest';
import type { ClientProbe } from '../../../src/session/session-state.js';
import { needsEngine, planSweep, type SweepSettings } from '../../../src/session/timeouts.js';
import { newSessionRecord, type SessionRecord } from '../../../src/session/session-record.js';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const ago = (secs: number): string => new Date(NOW - secs * 1000).toISOString();
const DEFAULTS: SweepSettings = { idleSecs: 300, detachSecs: 3600, suspendSecs: 86400, autoCleanupHours: 720 };
const nobody: ClientProbe = { pidAlive: () => false, identityAlive: () => false };
const everyone: ClientProbe = { pidAlive: () => true, identityAlive: () => true };

function rec(
  name: string,
  createdSecsAgo: number,
  patch: Partial<SessionRecord> = {},
  mode = 'detached',
): SessionRecord {
  const r = newSessionRecord(
    { name, projectDir: '/p', command: ['sh'], containerId: `mino-${name}`, status: 'running', ownerPid: 1, mode },
    new Date(NOW - createdSecsAgo * 1000),
  );
  return { ...r, ...patch };
}

describe('planSweep (session timeouts from the files alone)', () => {
  it('nothing is due for fresh sessions; the next deadline is the earliest one', () => {
    const plan = planSweep([rec('a', 10)], DEFAULTS, NOW, nobody);
    expect(plan).toMatchObject({ expired: [], idle: [], stampDetached: [], forget: [] });
    expect(plan.nextDeadlineMs).toBe(NOW - 10_000 + 300_000);
    expect(needsEngine(plan)).toBe(false);
  });

  it('a detached session silent past the idle timeout is an idle candidate (the engine checks its output)', () => {
    const plan = planSweep([rec('a', 301)], DEFAULTS, NOW, nobody);
    expect(plan.idle).toEqual([
      { name: 'a', id: expect.any(String), timeoutSecs: 300, idleSinceMs: NOW - 300_000, sinceMs: NOW - 301_000 },
    ]);
    expect(needsEngine(plan)).toBe(true);
  });

  it('output recorded by an earlier sweep moves the idle deadline', () => {
    const plan = planSweep([rec('a', 1000, { last_output_at: ago(100) })], DEFAULTS, NOW, nobody);
    expect(plan.idle).toEqual([]);
    expect(plan.nextDeadlineMs).toBe(NOW + 200_000);
  });

  it('no client for the detach timeout expires a session, busy or not', () => {
    const plan = planSweep(
      [rec('a', 4000, { last_output_at: ago(1) }), rec('b', 5000, { detached_at: ago(3599) })],
      DEFAULTS,
      NOW,
      nobody,
    );
    expect(plan.expired.map((e) => [e.name, e.reason, e.timeoutSecs])).toEqual([['a', 'detached', 3600]]);
  });

  it('a suspended session expires after the suspend timeout only (frozen: no idle or detach)', () => {
    const plan = planSweep(
      [rec('a', 90_000, { suspended_at: ago(86_400) }), rec('b', 90_000, { suspended_at: ago(86_399) })],
      DEFAULTS,
      NOW,
      nobody,
    );
    expect(plan.expired.map((e) => [e.name, e.reason])).toEqual([['a', 'suspended']]);
    expect(plan.idle).toEqual([]);
  });

  it('a session with a client attached never expires', () => {
    const plan = planSweep(
      [rec('a', 100_000, { attached_by: '1@2' }), rec('b', 100_000, { owner_pid: 7 }, 'command')],
      DEFAULTS,
      NOW,
      everyone,
    );
    expect(plan.expired).toEqual([]);
    expect(plan.idle).toEqual([]);
  });

  it('a foreground session whose mino run died is stamped detached first, timed from then on', () => {
    const plan = planSweep([rec('a', 100_000, {}, 'shell')], DEFAULTS, NOW, nobody);
    expect(plan.stampDetached).toEqual([{ name: 'a', id: expect.any(String) }]);
    expect(plan.expired).toEqual([]);
  });

  it('0 switches a timeout off', () => {
    const off = { ...DEFAULTS, idleSecs: 0, detachSecs: 0, suspendSecs: 0 };
    const plan = planSweep([rec('a', 1e6), rec('b', 1e6, { suspended_at: ago(1e6) })], off, NOW, nobody);
    expect(needsEngine(plan)).toBe(false);
  });

  it('ended sessions older than auto_cleanup_hours are forgotten; 0 keeps them', () => {
    const ended = [
      rec('old', 0, { status: 'stopped', updated_at: ago(721 * 3600) }),
      rec('new', 0, { status: 'failed', updated_at: ago(3600) }),
    ];
    expect(planSweep(ended, DEFAULTS, NOW, nobody).forget.map((f) => f.name)).toEqual(['old']);
    expect(planSweep(ended, { ...DEFAULTS, autoCleanupHours: 0 }, NOW, nobody).forget).toEqual([]);
  });

  it('starting sessions are left alone', () => {
    expect(planSweep([rec('a', 1e6, { status: 'starting' })], DEFAULTS, NOW, nobody)).toMatchObject({
      expired: [],
      idle: [],
      stampDetached: [],
    });
  });
});
