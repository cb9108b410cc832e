import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { CommandHost, type Host } from '../../src/host/host.js';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.js';
import { OrbStackRuntime, orbMachineHost } from '../../src/runtime/orbstack/orbstack-runtime.js';
import { PodmanRuntime } from '../../src/runtime/podman/podman-runtime.js';
import { FAKE_ORB, IN_CI, IS_ROOT, TEST_RUN, hasPodman, rootlessAvailable, rootlessPrefix } from './test-env.js';

/** One way of reaching podman that integration tests run against. */
export interface Engine {
  /** `rootful`, `rootless` or `orbstack` (fake orb in front of local podman). */
  id: 'rootful' | 'rootless' | 'orbstack';
  /** A fresh runtime instance for this engine. */
  runtime(): ContainerRuntime;
  /** The machine the engine runs on, as the engine's user (programs that are not the engine). */
  host: Host;
}

/**
 * Prefix of this test run's fake-orb state directories in the temporary directory: the global
 * teardown removes these, never those of another run going on at the same time.
 */
const FAKE_ORB_STATE_PREFIX = `mino-test-orb-${TEST_RUN}-`;

/** Creates a fake-orb state directory with one running machine named `mino` (unless `empty`). */
export function fakeOrbState(options: { empty?: boolean; orbStopped?: boolean; podmanMissing?: boolean } = {}): string {
  const state = mkdtempSync(join(tmpdir(), FAKE_ORB_STATE_PREFIX));
  mkdirSync(join(state, 'machines'));
  mkdirSync(join(state, 'root', 'etc'), { recursive: true });
  writeFileSync(join(state, 'status'), options.orbStopped ? 'Stopped\n' : 'Running\n');
  if (!options.empty) writeFileSync(join(state, 'machines', 'mino'), 'running\n');
  if (options.podmanMissing) writeFileSync(join(state, 'podman-missing'), '');
  return state;
}

/** Environment for the fake orb: its state directory and PATH. */
export function fakeOrbEnv(state: string): NodeJS.ProcessEnv {
  return { ...process.env, FAKE_ORB_STATE: state };
}

/** The engines available here: rootful (as root), rootless (test user or self), fake OrbStack. */
function engines(): Engine[] {
  const list: Engine[] = [];
  if (IS_ROOT) {
    const host = new CommandHost();
    list.push({ id: 'rootful', runtime: () => new PodmanRuntime({ host }), host });
  }
  if (rootlessAvailable().ok) {
    const host = new CommandHost({ prefix: rootlessPrefix(), name: 'rootless test user' });
    list.push({ id: 'rootless', runtime: () => new PodmanRuntime({ host }), host });
  }
  const orb = { vmName: 'mino', vmDistro: 'fedora', orbBinary: FAKE_ORB, env: fakeOrbEnv(fakeOrbState()) };
  list.push({ id: 'orbstack', runtime: () => new OrbStackRuntime(orb), host: orbMachineHost(orb) });
  return list;
}

/**
 * Fails (under CI) or reports a skip (elsewhere) when an integration prerequisite is missing,
 * so CI never passes by silently skipping.
 */
export function requirePrerequisites(): void {
  const problems: string[] = [];
  if (!hasPodman()) problems.push('podman is not installed (run: bin/mino setup --yes)');
  if (!IS_ROOT) problems.push('not running as root: rootful cases cannot run');
  const rootless = rootlessAvailable();
  if (!rootless.ok) problems.push(`rootless cases cannot run: ${rootless.reason}`);
  if (problems.length > 0 && IN_CI)
    throw new Error(`Integration prerequisites missing under CI:\n- ${problems.join('\n- ')}`);
  for (const p of problems) console.warn(`[integration] skipping part of the suite: ${p}`);
}

/** `describe` once per available engine. */
export function describeEachEngine(name: string, body: (engine: Engine) => void): void {
  for (const engine of engines()) describe(`${name} [${engine.id}]`, () => body(engine));
}
