import { describe, expect, it } from 'vitest';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { protectionDryRunLines } from '../../../src/protect/protect-format.js';
import { typicalInput } from './plan-input.js';

const P = '/home/alice/src/webapp';

describe('buildRunPlan: protected paths', () => {
  const plan = buildRunPlan(
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
              { path: '.bashrc', rule: { kind: 'file' }, found: 'absent' },
            ],
          },
        ],
      },
      protectWarnings: ['.idea is not protected'],
    }),
  );

  it('mounts protections after the project, read-only, with the parent pinned', () => {
    const args = formatPlan(plan).join(' ');
    expect(args).toContain(`-v ${P}:/webapp -v`);
    expect(args.indexOf(`-v ${P}/.git:/webapp/.git `)).toBeGreaterThan(args.indexOf(`-v ${P}:/webapp `));
    expect(args).toContain(`-v ${P}/.git/hooks:/webapp/.git/hooks:ro`);
    expect(args).toContain(`-v ${P}/.mcp.json:/webapp/.mcp.json:ro`);
    expect(plan.mounts.filter((m) => m.origin === 'protect')).toHaveLength(3);
    expect(plan.protection.stubs).toEqual([{ hostPath: `${P}/.mcp.json`, kind: 'file', content: '{}\n' }]);
    expect(plan.warnings).toContain('.idea is not protected');
  });

  it('shows the list in --dry-run', () => {
    expect(protectionDryRunLines(plan.protection)).toEqual([
      `# protected: ${P}/.mcp.json (absent: created for the session)`,
      `# protected: ${P}/.git/hooks`,
      `# not protected while absent: ${P}/.bashrc`,
    ]);
  });

  it('changes nothing without protect facts', () => {
    expect(buildRunPlan(typicalInput()).mounts.some((m) => m.origin === 'protect')).toBe(false);
  });
});
