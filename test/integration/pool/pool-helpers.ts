import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { descendantsOf } from '../../helpers/processes.js';
import { join } from 'node:path';
import type { RunAs } from '../../helpers/run-mino.js';
import { TEST_IMAGE } from '../../helpers/test-env.js';
import { expect } from 'vitest';
import type { PoolStatus } from '../../../src/pool/pool-status.js';
import {
  buildContext,
  buildMinoLikeImage,
  buildTestImage,
  hex,
  podmanAs,
  type Sandbox,
} from '../../helpers/sandbox.js';
import { stateKeyFor } from '../../../src/context/session-context.js';

/** Shared steps of the warm-pool integration tests. */

/** Writes the sandbox's global config with a `[pool]` table (short-lived warm containers for tests). */
export function writePoolConfig(sandbox: Sandbox, pool: Record<string, number | boolean>): void {
  const dir = join(sandbox.env.XDG_CONFIG_HOME as string, 'mino');
  mkdirSync(dir, { recursive: true });
  const lines = ['[pool]', ...Object.entries(pool).map(([k, v]) => `${k} = ${String(v)}`), ''];
  writeFileSync(join(dir, 'config.toml'), lines.join('\n'), { mode: 0o644 });
}

/** The sandbox counters of the sandbox's state directory (`mino stats` reads the same file). */
export function sandboxCounters(sandbox: Sandbox): Record<string, number> {
  return JSON.parse(
    readFileSync(join(sandbox.env.XDG_STATE_HOME as string, 'mino', 'sandbox-counters.json'), 'utf8'),
  ) as Record<string, number>;
}

/** `mino pool status -f json`. */
export async function poolStatus(sandbox: Sandbox): Promise<PoolStatus> {
  const r = await sandbox.mino(['pool', 'status', '-f', 'json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PoolStatus;
}

/** Waits until no warm or refill holds the pool lock and `done(status)` holds (up to `timeoutMs`). */
export async function waitForPool(
  sandbox: Sandbox,
  done: (s: PoolStatus) => boolean,
  timeoutMs = 180_000,
): Promise<PoolStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await poolStatus(sandbox);
    if (!s.refilling && done(s)) return s;
    if (Date.now() > deadline) throw new Error(`pool did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The sandbox's state key (label io.mino.state of its containers). */
function sandboxStateKey(sandbox: Sandbox): string {
  return stateKeyFor(join(sandbox.env.XDG_STATE_HOME as string, 'mino'));
}

/** Names and IDs of the sandbox's containers (any state). */
export function sandboxContainers(sandbox: Sandbox): { id: string; name: string; labels: Record<string, string> }[] {
  const r = podmanAs(sandbox.as, [
    'ps',
    '-a',
    '--format',
    'json',
    '--filter',
    `label=io.mino.state=${sandboxStateKey(sandbox)}`,
  ]);
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout || '[]') as { Id: string; Names: string[]; Labels: Record<string, string> | null }[]).map(
    (c) => ({ id: c.Id, name: c.Names[0] ?? '', labels: c.Labels ?? {} }),
  );
}

/** Waits until `check()` is true (podman removes used containers in the background). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * A mino-like image (busybox with mino-base's entrypoint, named like a composed image) whose user
 * is named, as in mino-base (`USER developer`): warm starts refuse numeric image users.
 */
export function buildNamedUserImage(as: RunAs): string {
  const base = buildMinoLikeImage(as, { entrypoint: true });
  return buildTestImage(as, buildContext(), `localhost/mino-composed-7e57${hex(8)}:latest`, [
    `FROM ${base}`,
    'USER developer',
  ]);
}

/** The busybox test image with `USER user`, not named like a mino image (mino does not know its group). */
export function buildUserImage(as: RunAs, user: string): string {
  return buildTestImage(as, buildContext(), `localhost/mino-test-user-${hex(8)}:latest`, [
    `FROM ${TEST_IMAGE}`,
    `USER ${user}`,
  ]);
}

/**
 * The PID of the mino process a test started with {@link runMinoArgv}: the process itself, or,
 * through runuser (which does not pass signals on), its child.
 */
export function minoPid(started: number): number {
  // The first child of a process comes first among its descendants.
  return descendantsOf(started)[0] ?? started;
}
