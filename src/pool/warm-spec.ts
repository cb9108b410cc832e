import { randomBytes } from 'node:crypto';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import { LABEL_POOL, LABEL_POOL_EXPIRES, WARM_NAME_PREFIX } from '../session/session-labels.js';
import { PER_RUN_LABELS } from './pool-key.js';
import { WARM_AGENT_START_SCRIPT, WARM_MAIN_SCRIPT } from './pool-scripts.js';
import { AGENT_MOUNT } from './warm-agent-dir.js';

/**
 * The container spec of a warm container: the run plan's container exactly (image, user mapping,
 * mounts, env, network, capabilities, limits, workdir, init), started detached with `--rm` and
 * the warm main process instead of the command, named `mino.warm.<key>.<random>`, labelled with
 * its pool key and expiry instead of a session, and with `groups` added (see warmGroupsFor).
 * With an agent directory (warm-agent-dir.ts) it is mounted at AGENT_MOUNT and the main process
 * is the warm agent when the image can run it.
 */

/** A new warm container name for `key`. */
export function warmContainerName(key: string): string {
  return `${WARM_NAME_PREFIX}${key.slice(0, 12)}.${randomBytes(4).toString('hex')}`;
}

/** The warm spec of `runSpec` (a plan's `spec`) under `key`, living `ttlSeconds` from `now`. */
export function warmSpecOf(
  runSpec: ContainerSpec,
  key: string,
  ttlSeconds: number,
  now: Date,
  groups: readonly string[] = [],
  name = warmContainerName(key),
  agentDir?: string,
): ContainerSpec {
  const { interactive: _i, tty: _t, ...rest } = runSpec;
  const labels = Object.fromEntries(Object.entries(runSpec.labels ?? {}).filter(([k]) => !PER_RUN_LABELS.includes(k)));
  labels[LABEL_POOL] = key;
  labels[LABEL_POOL_EXPIRES] = String(Math.floor(now.getTime() / 1000) + ttlSeconds);
  return {
    ...rest,
    name,
    labels,
    autoRemove: true,
    ...(groups.length > 0 ? { groupAdd: [...(runSpec.groupAdd ?? []), ...groups] } : {}),
    ...(agentDir === undefined
      ? { command: ['/bin/sh', '-c', WARM_MAIN_SCRIPT, 'mino-warm', String(ttlSeconds)] }
      : {
          mounts: [...(runSpec.mounts ?? []), { source: agentDir, target: AGENT_MOUNT }],
          command: [
            '/bin/sh',
            '-c',
            `${WARM_AGENT_START_SCRIPT}\n${WARM_MAIN_SCRIPT}`,
            'mino-warm',
            String(ttlSeconds),
            AGENT_MOUNT,
          ],
        }),
  };
}
