import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { isProtectedPath, planOnEngine } from '../../../src/launch/remote-plan.js';
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
});
