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

/** The credentials input of a run whose ANTHROPIC_API_KEY stays at its proxy (placeholder per `session`, CA bundle at `caBundle`). */
export function proxiedKeyCredentials(session: string, caBundle: string): NonNullable<RunPlanInput['credentials']> {
  return {
    caBundle,
    sessionCa: true,
    proxy: [
      {
        variable: 'ANTHROPIC_API_KEY',
        hosts: ['api.anthropic.com'],
        header: 'x-api-key',
        prefix: '',
        placeholder: `mino-proxy-managed-anthropic_api_key-${session.padEnd(16, '0')}`,
      },
    ],
  };
}
