import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, hex, modeLabel } from '../../helpers/sandbox.js';
import {
  buildNamedUserImage,
  eventually,
  sandboxContainers,
  waitForPool,
  writePoolConfig,
  sandboxCounters,
} from './pool-helpers.js';

requirePrerequisites();

/**
 * Ten `mino run` at once on a pool of four: each of the four warm containers serves one run, the
 * others start cold, no container serves two runs, the pool refills to four afterwards and no container is left behind.
 */
for (const as of MODES) {
  describe(`warm pool under concurrent runs [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    let image = '';
    let project = '';
    beforeAll(() => {
      image = buildNamedUserImage(as);
      project = sandbox.project('proj');
      writePoolConfig(sandbox, { warm_ttl: 600, max_warm: 10 });
    });
    afterAll(async () => {
      await sandbox.mino(['pool', 'drain']);
      sandbox.cleanup();
    });

    it('10 parallel runs on a pool of 4: 4 warm, 6 cold, none twice, refilled, nothing leaked', async () => {
      const flags = ['-p', project, '--network', 'none', '--no-home', '--image', image];
      const warm = await sandbox.mino(['pool', 'warm', '-n', '4', ...flags]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      const warmIds = sandboxContainers(sandbox)
        .filter((c) => c.name.startsWith('mino.warm.'))
        .map((c) => c.id);
      expect(warmIds).toHaveLength(4);

      // Each run writes its container's hostname into the project: podman 4.3 can drop the
      // attached output of a command that ends at once on a loaded host (containers/podman#9096),
      // which is not what this test is about.
      // Session names of this test's own: container names (mino-<session>) are the engine's, and
      // other test runs may share it.
      const tag = hex(6);
      const runs = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          sandbox.mino(
            ['run', '-n', `par-${tag}-${i}`, ...flags, '--', 'sh', '-c', `cat /proc/sys/kernel/hostname > host-${i}`],
            300_000,
          ),
        ),
      );
      for (const r of runs) expect(r.exitCode, r.stderr).toBe(0);
      const hosts = runs.map((_, i) => readFileSync(join(project, `host-${i}`), 'utf8').trim());
      for (const [i, h] of hosts.entries())
        expect(h, `run par-${tag}-${i}: ${runs[i]!.stderr}`).toMatch(/^[0-9a-f]{12}$/);
      expect(new Set(hosts).size).toBe(10);
      const servedWarm = hosts.filter((h) => warmIds.some((id) => id.startsWith(h)));
      expect(servedWarm).toHaveLength(4);

      const counters = sandboxCounters(sandbox);
      // Normally exactly 4 and 6; a refill that lands while slower runs still decide may serve one more.
      expect(counters.pool_hits! + counters.pool_misses!).toBe(10);
      expect(counters.pool_hits).toBeGreaterThanOrEqual(4);

      const settled = await waitForPool(sandbox, (s) => s.warm_total === 4, 300_000);
      expect(settled.pools).toEqual([expect.objectContaining({ target: 4, warm: 4 })]);
      await eventually(
        () => {
          const left = sandboxContainers(sandbox);
          return left.length === 4 && left.every((c) => c.name.startsWith('mino.warm.') && !warmIds.includes(c.id));
        },
        'only the 4 new warm containers to be left',
        120_000,
      );

      const drain = await sandbox.mino(['pool', 'drain']);
      expect(drain.exitCode, drain.stderr).toBe(0);
      expect(sandboxContainers(sandbox)).toEqual([]);
    });
  });
}
