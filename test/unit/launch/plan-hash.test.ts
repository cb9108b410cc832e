import { describe, expect, it } from 'vitest';
import { canonicalJson, hashedSpec, planHash } from '../../../src/launch/plan-hash.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { typicalInput } from './plan-input.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('keeps a __proto__ key as data', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"b":1,"a":2}}'))).toBe('{"__proto__":{"a":2,"b":1}}');
  });
});

describe('planHash', () => {
  const hash = planHash(buildRunPlan(typicalInput()));

  it('is a hex sha256', () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores session name, owner pid, version and other labels', () => {
    expect(planHash(buildRunPlan(typicalInput({ sessionName: 'other', ownerPid: 1, minoVersion: '9.9.9' })))).toBe(hash);
  });

  it('ignores env order', () => {
    const a = planHash(buildRunPlan(typicalInput({ cliEnv: ['A=1', 'B=2'] })));
    const b = planHash(buildRunPlan(typicalInput({ cliEnv: ['B=2', 'A=1'] })));
    expect(a).toBe(b);
  });

  it.each([
    ['image', { image: 'localhost/other:latest' }],
    ['command', { command: ['claude'] }],
    ['project dir', { projectDir: '/home/alice/src/other/webapp' }],
    ['env value', { cliEnv: ['A=1'] }],
    ['volume', { cliVolumes: ['/a:/a'] }],
    ['read-only', { readOnly: true }],
    ['network', { network: 'none' }],
    ['userns', { imageUser: 0 }],
    ['tty', { stdinIsTty: false }],
    ['mode', { detach: true }],
    ['secret variables', { credentials: { envFile: { hostPath: '/run/x/demo.env', variables: ['T'] } } }],
  ] as const)('changes with the %s', (_label, overrides) => {
    expect(planHash(buildRunPlan(typicalInput(overrides)))).not.toBe(hash);
  });

  it('hashedSpec drops name, labels and envFiles only', () => {
    const spec = { ...buildRunPlan(typicalInput()).spec, envFiles: ['/tmp/x'] };
    const h = hashedSpec(spec);
    expect(Object.keys(h)).not.toContain('name');
    expect(Object.keys(h)).not.toContain('labels');
    expect(Object.keys(h)).not.toContain('envFiles');
    expect(Object.keys(spec).length - Object.keys(h).length).toBe(3);
  });
});
