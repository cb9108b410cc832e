import { describe, expect, it } from 'vitest';
import { chooseNetwork, REMOTE_DEFAULT_NOTICE, startEgressInputs } from '../../../src/run/session-network.js';
import type { HostFacts, RunRequest } from '../../../src/run/run-request.js';

/** The network a session gets when its engine is not this machine's Podman. */
describe('chooseNetwork off this machine', () => {
  const request = (o: Partial<RunRequest> = {}): RunRequest =>
    ({ projectDir: '/p', env: [], volumes: [], command: ['true'], ...o }) as RunRequest;
  const facts = (localEngine: boolean): HostFacts => ({ localEngine, env: {} }) as unknown as HostFacts;

  it('keeps the contained default on a remote engine (its proxy runs there), with no hook directories here', async () => {
    const said: string[] = [];
    const io = { say: (l: string): void => void said.push(l), print: (): void => undefined };
    const choice = chooseNetwork(request(), facts(false), io, true);
    expect(choice).toMatchObject({ mode: 'allowlist', presets: ['agent'] });
    expect(said).toEqual([]);
    const pending = startEgressInputs(choice, { ...facts(false), homeDir: '/nonexistent' }, undefined, true);
    expect(await pending?.hooksDirs).toEqual([]);
  });

  it('with OrbStack, turns the contained default into none, with a notice naming --network bridge', () => {
    const said: string[] = [];
    const io = { say: (l: string): void => void said.push(l), print: (): void => undefined };
    expect(chooseNetwork(request(), facts(false), io)).toEqual({ mode: 'none', source: 'default' });
    expect(said).toEqual([REMOTE_DEFAULT_NOTICE]);
    expect(REMOTE_DEFAULT_NOTICE).toContain('--network bridge');
  });

  it('keeps the contained default on this machine, and what the user chose anywhere', () => {
    const said: string[] = [];
    const io = { say: (l: string): void => void said.push(l), print: (): void => undefined };
    expect(chooseNetwork(request(), facts(true), io)).toMatchObject({ mode: 'allowlist', presets: ['agent'] });
    expect(chooseNetwork(request({ network: 'bridge' }), facts(false), io)).toEqual({ mode: 'bridge', source: 'cli' });
    // An allowlist asked for stays one (and is refused later with its own error on that engine).
    expect(chooseNetwork(request({ networkAllow: ['example.com:443'] }), facts(false), io)).toMatchObject({
      mode: 'allowlist',
      source: 'cli',
    });
    expect(said).toEqual([]);
  });
});
