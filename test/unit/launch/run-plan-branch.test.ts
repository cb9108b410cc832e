import { describe, expect, it } from 'vitest';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { ORIGIN_TARGET } from '../../../src/workspace/copy-layout.js';
import { minoErrorOf } from '../../helpers/thrown.js';
import { typicalInput } from './plan-input.js';

const COPY = '/home/alice/.local/share/mino/branches/0123456789ab/fix/webapp';
const branch = {
  name: 'fix',
  hostProjectDir: '/home/alice/src/webapp',
  objectsDir: '/home/alice/src/webapp/.git/objects',
};
const minoDirs = ['/home/alice/.local/share/mino', '/home/alice/.local/state/mino'];

describe('run plan of a branch session', () => {
  it("mounts the working copy at the project's usual workdir and the host's objects read-only, nothing else of the host repository", () => {
    const plan = buildRunPlan(typicalInput({ projectDir: COPY, branch, minoDirs }));
    expect(plan.workdir).toBe('/webapp');
    expect(plan.mounts[0]).toMatchObject({ source: COPY, target: '/webapp', readOnly: false, origin: 'project' });
    const origin = plan.mounts.filter((m) => m.source.startsWith('/home/alice/src/webapp'));
    expect(origin).toEqual([{ source: branch.objectsDir, target: ORIGIN_TARGET, readOnly: true, origin: 'branch' }]);
    expect(plan.branch).toEqual(branch);
  });

  it('guards the user project as any project (a home directory is refused), the copy in mino’s data directory is allowed', () => {
    expect(() => buildRunPlan(typicalInput({ projectDir: COPY, branch, minoDirs }))).not.toThrow();
    const err = minoErrorOf(() =>
      buildRunPlan(typicalInput({ projectDir: COPY, branch: { ...branch, hostProjectDir: '/home/alice' }, minoDirs })),
    );
    expect(err.exitCode).toBe(2);
    // Without --branch the data directory stays refused.
    expect(minoErrorOf(() => buildRunPlan(typicalInput({ projectDir: COPY, minoDirs }))).exitCode).toBe(2);
  });

  it('refuses a workdir deeper than one folder (the alternates line would not reach the objects)', () => {
    const err = minoErrorOf(() => buildRunPlan(typicalInput({ projectDir: COPY, branch, workdir: '/src/webapp' })));
    expect(err.message).toContain('one-folder container workdir');
    expect(err.exitCode).toBe(2);
  });
});
