import type { RunPlanInput } from '../../../src/launch/run-plan.js';

/** A typical `mino run -- claude --resume` input: rootless, mino image (uid 1000), a terminal. */
export function typicalInput(overrides: Partial<RunPlanInput> = {}): RunPlanInput {
  return {
    sessionName: 'demo',
    projectDir: '/home/alice/src/webapp',
    homeDir: '/home/alice',
    image: 'localhost/mino-base:latest',
    command: ['claude', '--resume'],
    shell: ['/bin/bash'],
    detach: false,
    readOnly: false,
    rootless: true,
    stdinIsTty: true,
    ownerPid: 4242,
    hostUid: 1001,
    hostGid: 1001,
    imageUser: 1000,
    imageGid: 1000,
    minoVersion: '0.1.0',
    ...overrides,
  };
}
