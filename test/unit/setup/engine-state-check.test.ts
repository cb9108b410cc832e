import { describe, expect, it } from 'vitest';
import { CheckLog } from '../../../src/setup/check-result.js';
import { checkEngineState } from '../../../src/setup/engine-state-check.js';
import type { FixPolicy } from '../../../src/setup/host-checks.js';
import type { RootRunner } from '../../../src/setup/privileged.js';
import { podmanError } from '../../../src/runtime/podman/podman-error.js';
import { FakeHost } from '../../helpers/fake-host.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

const STALE = podmanError(
  ['info'],
  125,
  'Error: invalid internal status, try resetting the pause process with "podman system migrate": could not find any running process: no such process',
);

/** A rootless user whose engine has run before (the alive marker). */
function rootlessHost(): FakeHost {
  const host = new FakeHost();
  host.uid = 1789;
  host.env.XDG_RUNTIME_DIR = '/run/user/1789';
  host.files.set('/run/user/1789/libpod/tmp/alive', '');
  return host;
}

function policy(fix: boolean): FixPolicy {
  return { mayFix: async () => fix, fixHint: 'Run: mino setup --yes', root: undefined as unknown as RootRunner };
}

/** A runtime whose `info` fails with the stale state until `systemMigrate` ran `migratesNeeded` times. */
function staleRuntime(migrate: () => void, migratesNeeded = 1): FakeRuntime {
  const runtime = new FakeRuntime();
  let migrated = 0;
  runtime.on('info', async () => {
    if (migrated < migratesNeeded) throw STALE;
    return { ...runtime.engineInfo };
  });
  runtime.on('systemMigrate', async () => {
    migrated += 1;
    migrate();
  });
  return runtime;
}

describe('checkEngineState', () => {
  it('says nothing when the engine answers', async () => {
    const log = new CheckLog();
    const runtime = new FakeRuntime();
    await checkEngineState(log, runtime, rootlessHost(), policy(true));
    expect(log.results).toEqual([]);
    expect(runtime.callNames()).toEqual(['info']);
  });

  it('never asks the engine of a user whose engine has not run yet', async () => {
    const host = rootlessHost();
    host.files.clear();
    const runtime = new FakeRuntime();
    await checkEngineState(new CheckLog(), runtime, host, policy(true));
    expect(runtime.calls).toEqual([]);
  });

  it('reports the stale state with the repair when it may not fix', async () => {
    const log = new CheckLog();
    const runtime = staleRuntime(() => undefined);
    await checkEngineState(log, runtime, rootlessHost(), policy(false));
    expect(log.results).toMatchObject([
      { id: 'engine.state', status: 'fail', hint: expect.stringMatching(/podman system migrate/) },
    ]);
    expect(runtime.callsTo('systemMigrate')).toHaveLength(0);
  });

  it('repairs it with podman system migrate', async () => {
    const log = new CheckLog();
    const runtime = staleRuntime(() => undefined);
    await checkEngineState(log, runtime, rootlessHost(), policy(true));
    expect(log.results).toMatchObject([{ id: 'engine.state', status: 'fixed' }]);
    expect(runtime.callNames()).toEqual(['info', 'systemMigrate', 'info']);
  });

  it('judges migrate by the engine answering again, not by its exit code (a container it stops had died)', async () => {
    const log = new CheckLog();
    const runtime = staleRuntime(() => {
      throw podmanError(
        ['system', 'migrate'],
        125,
        'time="2026-12-02T09:14:31Z" level=error msg="container not running"',
      );
    });
    await checkEngineState(log, runtime, rootlessHost(), policy(true));
    expect(log.results).toMatchObject([{ id: 'engine.state', status: 'fixed' }]);
  });

  it('gives migrate a second chance, then reports what it said', async () => {
    const twice = staleRuntime(() => undefined, 2);
    const log = new CheckLog();
    await checkEngineState(log, twice, rootlessHost(), policy(true));
    expect(log.results).toMatchObject([{ status: 'fixed' }]);
    expect(twice.callsTo('systemMigrate')).toHaveLength(2);

    const never = staleRuntime(() => {
      throw podmanError(['system', 'migrate'], 125, 'Error: cannot migrate');
    }, 99);
    const failed = new CheckLog();
    await checkEngineState(failed, never, rootlessHost(), policy(true));
    expect(failed.results).toMatchObject([
      { status: 'fail', detail: expect.stringMatching(/cannot migrate/), hint: 'Run: podman system migrate' },
    ]);
    expect(never.callsTo('systemMigrate')).toHaveLength(2);
  });
});
