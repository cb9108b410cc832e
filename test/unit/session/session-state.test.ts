import { describe, expect, it } from 'vitest';
import { attachedClient, sessionState, stateLabel, type ClientProbe } from '../../../src/session/session-state.js';
import { newSessionRecord, type SessionRecord } from '../../../src/session/session-record.js';

const LIVE_PID = 4242;
const LIVE_CLIENT = '5151@777';
const probe: ClientProbe = { pidAlive: (pid) => pid === LIVE_PID, identityAlive: (id) => id === LIVE_CLIENT };

function record(patch: Partial<SessionRecord> = {}, mode = 'detached'): SessionRecord {
  return {
    ...newSessionRecord({
      name: 's',
      projectDir: '/p',
      command: ['sh'],
      containerId: 'mino-s',
      status: 'running',
      ownerPid: 1,
      mode,
    }),
    ...patch,
  };
}

describe('sessionState (lifecycle states from record + engine)', () => {
  it('ended sessions are terminated whatever the engine says', () => {
    expect(sessionState(record({ status: 'stopped' }), 'running', probe)).toBe('terminated');
    expect(sessionState(record({ status: 'failed' }), undefined, probe)).toBe('terminated');
  });

  it('a running session whose container exited or is gone is terminated', () => {
    expect(sessionState(record(), 'exited', probe)).toBe('terminated');
    expect(sessionState(record(), 'gone', probe)).toBe('terminated');
  });

  it('a paused container is suspended; without the engine the record says so', () => {
    expect(sessionState(record(), 'paused', probe)).toBe('suspended');
    expect(sessionState(record({ suspended_at: new Date().toISOString() }), undefined, probe)).toBe('suspended');
    // Unpaused behind mino's back: the engine wins over the record.
    expect(sessionState(record({ suspended_at: new Date().toISOString() }), 'running', probe)).toBe('detached');
  });

  it('a detached run with no client is detached; with a live mino attach it is active', () => {
    expect(sessionState(record(), 'running', probe)).toBe('detached');
    expect(sessionState(record({ attached_by: LIVE_CLIENT }), 'running', probe)).toBe('active');
    expect(sessionState(record({ attached_by: '5151@778' }), 'running', probe)).toBe('detached'); // PID reused by another process
  });

  it('a foreground session is active while its mino run lives, detached once it died', () => {
    expect(sessionState(record({ owner_pid: LIVE_PID }, 'command'), 'running', probe)).toBe('active');
    expect(sessionState(record({ owner_pid: 999_999 }, 'shell'), 'running', probe)).toBe('detached');
    // The owner of a detached run is the short-lived `mino run -d`: never a client.
    expect(attachedClient(record({ owner_pid: LIVE_PID }, 'detached'), probe)).toBeUndefined();
  });

  it('a starting session is active while its mino run lives', () => {
    expect(sessionState(record({ status: 'starting', owner_pid: LIVE_PID }), undefined, probe)).toBe('active');
    expect(sessionState(record({ status: 'starting', owner_pid: 999_999 }), undefined, probe)).toBe('detached');
  });

  it('labels are capitalised', () => {
    expect(stateLabel('active')).toBe('Active');
    expect(stateLabel('terminated')).toBe('Terminated');
  });
});
