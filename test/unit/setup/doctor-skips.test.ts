import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/setup/doctor.js';
import { CheckLog, type CheckResult } from '../../../src/setup/check-result.js';
import type { ContainerSpec } from '../../../src/runtime/container-runtime.js';
import { FakeHost } from '../../helpers/fake-host.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

/**
 * A failed check never silently skips another: what cannot run says so ([SKIP] with the reason),
 * and setup builds no base image after a failure.
 */

function engine(failOn: (spec: ContainerSpec) => boolean): { runtime: FakeRuntime; host: FakeHost } {
  const host = new FakeHost();
  host.uid = 0;
  host.user = 'root';
  host.env = { HOME: '/root' };
  host.files.set('/usr/bin/true', '');
  const runtime = new FakeRuntime();
  runtime.on('runCaptured', (spec: ContainerSpec) =>
    failOn(spec)
      ? { exitCode: 125, stdout: '', stderr: 'Error: something odd happened' }
      : { exitCode: 0, stdout: '', stderr: '' },
  );
  return { runtime, host };
}

async function doctor(
  failOn: (spec: ContainerSpec) => boolean,
  fix: boolean,
): Promise<{ results: CheckResult[]; runtime: FakeRuntime }> {
  const { runtime, host } = engine(failOn);
  const report = await runDoctor({
    runtime,
    host,
    kind: 'orbstack',
    fix,
    assumeYes: true,
    interactive: false,
    confirm: () => Promise.resolve(true),
    progress: { say: () => undefined, buildOutput: () => undefined },
  });
  return { results: report.results, runtime };
}

const line = (results: CheckResult[], id: string): CheckResult | undefined => results.find((r) => r.id === id);

describe('doctor: a failure never silently skips a check', () => {
  it('no container starts: the bridge probe and the base image say they were skipped, and why', async () => {
    const { results } = await doctor(() => true, false);
    expect(line(results, 'probe.none')?.status).toBe('fail');
    expect(line(results, 'probe.bridge')).toMatchObject({
      status: 'skip',
      detail: 'not checked: no container starts at all (Probe container (no network) failed)',
    });
    expect(line(results, 'image.base')).toMatchObject({ status: 'skip' });
  });

  it('setup builds no base image after a failure (here: the bridge network)', async () => {
    const { results, runtime } = await doctor((spec) => spec.network === 'bridge', true);
    expect(line(results, 'probe.none')?.status).toBe('ok');
    expect(line(results, 'probe.bridge')?.status).toBe('fail');
    expect(line(results, 'image.base')).toMatchObject({
      status: 'skip',
      detail: 'not checked: mino-base is built once the checks above pass (Probe container (bridge network) failed)',
      hint: 'Fix the failures above, then run: mino setup',
    });
    expect(runtime.callsTo('buildImage')).toEqual([]);
  });

  it('a skipped line names the failures so far', () => {
    const log = new CheckLog();
    log.add({ id: 'a', title: 'A', status: 'fail' });
    log.add({ id: 'b', title: 'B', status: 'warn' });
    expect(log.skip('c', 'C', 'needs A')).toEqual({
      id: 'c',
      title: 'C',
      status: 'skip',
      detail: 'not checked: needs A (A failed)',
    });
    expect(log.ok).toBe(false);
  });
});
