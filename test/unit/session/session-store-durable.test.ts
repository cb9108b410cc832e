import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionContext } from '../../../src/context/session-context.js';
import type { RunPlan } from '../../../src/launch/run-plan.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';

const writes = vi.hoisted(() => [] as Array<{ path: string; durable: boolean | undefined }>);

vi.mock('../../../src/common/atomic-write.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/common/atomic-write.js')>();
  return {
    ...real,
    writeFileAtomic: (path: string, data: string | Uint8Array, options: { durable?: boolean } = {}) => {
      writes.push({ path, durable: options.durable });
      real.writeFileAtomic(path, data, options);
    },
  };
});

const { recordEnded, recordRunning } = await import('../../../src/lifecycle/session-lifecycle.js');

let stateDir: string | undefined;

afterEach(() => {
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  writes.length = 0;
});

function storeWithSession(name: string): SessionStore {
  stateDir = mkdtempSync(join(tmpdir(), 'mino-session-durable-'));
  const store = new SessionStore(stateDir);
  store.create(
    newSessionRecord({
      name,
      projectDir: '/srv/app',
      command: ['true'],
      containerId: `mino-${name}`,
      status: 'starting',
      ownerPid: process.pid,
      mode: 'command',
    }),
  );
  return store;
}

describe('session record updates and the disk', () => {
  it('are flushed to disk unless told they need not be', () => {
    const store = storeWithSession('s1');
    store.update('s1', { status: 'running' });
    store.update('s1', { status: 'stopped', exit_code: 0 }, { durable: false });
    expect(writes.map((w) => w.durable)).toEqual([true, false]);
    expect(store.get('s1')).toMatchObject({ status: 'stopped', exit_code: 0 });
  });

  it('a run records running and its end without waiting for the disk', () => {
    const store = storeWithSession('s2');
    const ctx = { store, audit: { record: () => undefined } } as unknown as SessionContext;
    const plan = { sessionName: 's2' } as RunPlan;
    recordRunning(ctx, plan, undefined);
    recordEnded(ctx, plan, 3);
    expect(writes.map((w) => w.durable)).toEqual([false, false]);
    expect(store.get('s2')).toMatchObject({ status: 'stopped', exit_code: 3 });
  });
});
