import { describe, expect, it } from 'vitest';
import { EgressStartError, executePlan } from '../../../src/launch/execute-plan.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { newNetworkRecord } from '../../../src/network/network-record.js';
import type { EgressSessionContext, EgressStarter, SessionEgress } from '../../../src/network/session-egress.js';
import type { ContainerRuntime } from '../../../src/runtime/container-runtime.js';
import { typicalInput } from './plan-input.js';

const egressPlan = buildEgressPlan({
  mode: 'allowlist',
  rules: [],
  presets: [],
  paths: egressPaths('/tmp/e', 'k', 'demo'),
  systemHooksDirs: [],
});
const context: EgressSessionContext = {
  session: 'demo',
  stateDir: '/tmp/s',
  stateKey: 'k',
  audit: true,
  ownerPid: 1,
  rootless: true,
  self: ['node', 'mino'],
};
const record = newNetworkRecord('demo', 'allowlist', egressPlan.policy, []);
const signals = { on: () => undefined, off: () => undefined };

/** A starter that records what the executor did with the proxy. */
function fakeEgress(failure?: Error): { start: EgressStarter; calls: string[] } {
  const calls: string[] = [];
  const start: EgressStarter = (plan, ctx) => {
    calls.push(`start ${plan.dir} ${ctx.session}`);
    const ready = failure ? Promise.reject(failure) : Promise.resolve();
    ready.catch(() => undefined);
    const handle: SessionEgress = {
      ready,
      failure: () => failure,
      finish: async () => {
        calls.push('finish');
        return record;
      },
      abort: async () => {
        calls.push('abort');
      },
      release: () => calls.push('release'),
    };
    return handle;
  };
  return { start, calls };
}

function runtime(result: { exitCode?: number; id?: string; fail?: Error }, calls: string[]): ContainerRuntime {
  return {
    runAttached: async () => {
      calls.push('podman run');
      if (result.fail) throw result.fail;
      return result.exitCode ?? 0;
    },
    run: async () => {
      calls.push('podman run -d');
      if (result.fail) throw result.fail;
      return result.id ?? 'abc';
    },
    stop: async () => undefined,
    kill: async () => undefined,
  } as unknown as ContainerRuntime;
}

describe('executePlan with an egress proxy', () => {
  it('starts the proxy before the container and finishes it after, returning its record', async () => {
    const e = fakeEgress();
    const out = await executePlan(
      runtime({ exitCode: 3 }, e.calls),
      buildRunPlan(typicalInput({ egress: egressPlan })),
      { signals, egress: { start: e.start, context } },
    );
    expect(out).toEqual({ kind: 'exited', exitCode: 3, network: record });
    expect(e.calls).toEqual([`start ${egressPlan.dir} demo`, 'podman run', 'finish']);
  });

  it('lets the proxy live on for a detached session', async () => {
    const e = fakeEgress();
    const out = await executePlan(
      runtime({ id: 'c1' }, e.calls),
      buildRunPlan(typicalInput({ egress: egressPlan, detach: true })),
      { signals, egress: { start: e.start, context } },
    );
    expect(out).toEqual({ kind: 'detached', containerId: 'c1' });
    expect(e.calls).toEqual([`start ${egressPlan.dir} demo`, 'podman run -d', 'release']);
  });

  it("explains a failed start with the proxy's own error, and stops it", async () => {
    const e = fakeEgress(new Error('nsenter missing'));
    const err = await executePlan(
      runtime({ exitCode: 126 }, e.calls),
      buildRunPlan(typicalInput({ egress: egressPlan })),
      { signals, egress: { start: e.start, context } },
    ).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EgressStartError);
    expect((err as EgressStartError).message).toBe('nsenter missing');
    expect((err as EgressStartError).exitCode).toBe(126);
    expect(e.calls).toEqual([`start ${egressPlan.dir} demo`, 'podman run', 'abort']);
  });

  it('stops the proxy when podman itself fails', async () => {
    const e = fakeEgress();
    const boom = new Error('podman exploded');
    await expect(
      executePlan(runtime({ fail: boom }, e.calls), buildRunPlan(typicalInput({ egress: egressPlan, detach: true })), {
        signals,
        egress: { start: e.start, context },
      }),
    ).rejects.toBe(boom);
    expect(e.calls).toEqual([`start ${egressPlan.dir} demo`, 'podman run -d', 'abort']);
  });

  it('refuses to run an egress plan without a way to start its proxy (never unrestricted)', async () => {
    const calls: string[] = [];
    await expect(
      executePlan(runtime({}, calls), buildRunPlan(typicalInput({ egress: egressPlan })), { signals }),
    ).rejects.toThrow('needs an egress starter');
    expect(calls).toEqual([]);
  });
});
