import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { engineEnvSecretName, isProtectedPath, planOnEngine } from '../../../src/launch/remote-plan.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { minoErrorOf } from '../../helpers/thrown.js';
import { typicalInput } from './plan-input.js';

const P = '/home/alice/src/webapp';

describe('a plan on a remote engine', () => {
  const local = buildRunPlan(
    typicalInput({
      protect: {
        roots: [
          {
            hostDir: P,
            stubs: true,
            ancestors: { '.git': 'dir' },
            candidates: [
              { path: '.git/hooks', rule: { kind: 'dir', stub: '' }, found: 'dir' },
              { path: '.mcp.json', rule: { kind: 'file', stub: '{}\n' }, found: 'absent' },
            ],
          },
        ],
      },
    }),
  );

  it('mounts the project volume where the project was, and no path of this machine', () => {
    const { plan, protectedPaths } = planOnEngine(local, 'gpu', 'mino-project-abc');
    const args = formatPlan(plan).join(' ');
    expect(args).toContain('-v mino-project-abc:/webapp');
    expect(plan.spec.mounts?.filter((m) => m.source.startsWith('/'))).toEqual([]);
    expect(plan.protection.stubs).toEqual([]);
    expect(Object.keys(plan.spec.env ?? {}).filter((k) => k.startsWith('GIT_CONFIG'))).toEqual([]);
    expect(plan.spec.labels?.['io.mino.engine']).toBe('gpu');
    expect(plan.spec.workdir).toBe('/webapp');
    // Protection moves to the return trip.
    expect(protectedPaths.sort()).toEqual(['.git/hooks', '.mcp.json']);
    expect(isProtectedPath(protectedPaths, '.git/hooks/pre-commit')).toBe(true);
    expect(isProtectedPath(protectedPaths, '.git/hooksx')).toBe(false);
  });

  it('refuses a host path volume (exit 2)', () => {
    const plan = buildRunPlan(typicalInput({ cliVolumes: ['/srv/data:/data'] }));
    const err = minoErrorOf(() => planOnEngine(plan, 'gpu', 'v'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('--volume /srv/data:/data: a path of this machine cannot be mounted on engine gpu');
  });

  it('passes secret values as a podman secret on the engine, at the env file path, owned by the command user', () => {
    const plan = buildRunPlan(
      typicalInput({
        stateKey: 'abc123',
        credentials: { envFile: { hostPath: '/run/user/1001/mino/k/session-env/demo.env', variables: ['GH_TOKEN'] } },
      }),
    );
    const remote = planOnEngine(plan, 'gpu', 'v').plan;
    const argv = formatPlan(remote);
    expect(argv.some((a) => a.includes('session-env/demo.env'))).toBe(false);
    expect(argv.some((a) => a.includes('GH_TOKEN'))).toBe(false);
    const name = engineEnvSecretName('abc123', 'demo');
    expect(name).toBe('mino-env-abc123-demo');
    expect(remote.spec.secretFiles).toEqual([{ secret: name, target: 'mino-env', uid: 1000 }]);
    expect(argv).toContain(`${name},type=mount,target=mino-env,mode=0400,uid=1000,gid=1000`);
    // The prelude still sources it.
    expect(remote.credentials.prelude).toBe(true);
  });

  it('refuses secret values when the command user is not known (exit 2)', () => {
    const plan = buildRunPlan(
      typicalInput({
        imageUser: undefined,
        imageGid: undefined,
        credentials: { envFile: { hostPath: '/run/user/1001/mino/k/session-env/demo.env', variables: ['GH_TOKEN'] } },
      }),
    );
    const err = minoErrorOf(() => planOnEngine(plan, 'gpu', 'v'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("the image's user is not known");
  });
});
