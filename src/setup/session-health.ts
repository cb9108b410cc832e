import { errorMessage } from '../common/errors.js';
import { planSweep, type SweepSettings } from '../session/timeouts.js';
import { containerOf } from '../session/reconcile.js';
import { formatSize } from '../volume/parse-size.js';
import type { CheckResult } from './check-result.js';
import { gatherInventory } from '../resources/manage-caches.js';
import { sandboxStats } from '../lifecycle/sandbox-stats.js';
import type { SessionContext } from '../context/session-context.js';
import { hostProbe } from '../lifecycle/sweep-sessions.js';

/**
 * The session side of `mino status`: sessions by state and the warm pool,
 * sessions past a timeout that the sweep has not stopped yet, and the disk budget of dependency
 * caches and composed images. `settings` is the sweep's configuration, or the error reading it.
 */
export async function sessionHealth(
  ctx: SessionContext,
  settings: SweepSettings | Error,
  limitGb: number,
  now = Date.now(),
): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const { stats } = sandboxStats(ctx);
  checks.push({
    id: 'sessions.states',
    title: 'Sessions',
    status: 'info',
    detail: `${stats.active_sessions} active, ${stats.detached_sessions} detached, ${stats.suspended_sessions} suspended; ${stats.timeout_destroys} stopped by timeouts so far`,
  });
  checks.push({
    id: 'pool.size',
    title: 'Warm pool',
    status: 'info',
    detail: `${stats.pool_size} warm container(s)${stats.pool_hit_rate === null ? '' : `, hit rate ${Math.round(stats.pool_hit_rate * 100)}%`}`,
  });
  if (settings instanceof Error) {
    checks.push({
      id: 'sessions.timeouts',
      title: 'Session timeouts',
      status: 'fail',
      detail: settings.message,
      hint: 'Fix the [session] keys of the config file',
    });
  } else {
    const { sessions } = ctx.store.list();
    const plan = planSweep(sessions, settings, now, hostProbe);
    const pending = plan.expired.map((e) => `${e.name} (${e.reason})`);
    if (plan.idle.length > 0) {
      // Idle by the files: ask the engine whether each printed something since (read-only).
      const containers = await ctx.runtime.listContainers({}).catch(() => []);
      for (const c of plan.idle) {
        const record = sessions.find((s) => s.name === c.name);
        const container = record && containerOf(record, containers, ctx.stateKey);
        if (container?.state !== 'running') continue;
        const last = await ctx.runtime.lastOutputAt(container.id).catch(() => undefined);
        if (last === undefined || last.getTime() < c.idleSinceMs) pending.push(`${c.name} (idle)`);
      }
    }
    checks.push(
      pending.length > 0
        ? {
            id: 'sessions.expired',
            title: 'Session timeouts',
            status: 'warn',
            detail: `${pending.length} session(s) past a timeout, not stopped yet: ${pending.join(', ')}`,
            hint: 'The next mino command stops them in the background; mino gc does it now',
          }
        : {
            id: 'sessions.expired',
            title: 'Session timeouts',
            status: 'ok',
            detail: `no session past a timeout (idle ${settings.idleSecs} s, detached ${settings.detachSecs} s, suspended ${settings.suspendSecs} s; 0 = never)${plan.nextDeadlineMs === undefined ? '' : `; next deadline ${new Date(plan.nextDeadlineMs).toISOString()}`}`,
          },
    );
  }
  try {
    const inv = await gatherInventory(ctx, { images: true, limitGb });
    const used = formatSize(inv.totalBytes);
    if (inv.limitBytes === 0) {
      checks.push({
        id: 'disk.budget',
        title: 'Disk budget',
        status: 'info',
        detail: `caches and composed images use ${used}; no limit (cache.max_total_gb = 0)`,
      });
    } else {
      const over = inv.totalBytes > inv.limitBytes;
      checks.push({
        id: 'disk.budget',
        title: 'Disk budget',
        status: over ? 'warn' : 'ok',
        detail: `caches and composed images use ${used} of ${formatSize(inv.limitBytes)} (cache.max_total_gb)`,
        ...(over ? { hint: 'mino run evicts the least recently used ones; mino cache gc removes them now' } : {}),
      });
    }
  } catch (err) {
    checks.push({
      id: 'disk.budget',
      title: 'Disk budget',
      status: 'warn',
      detail: `could not be measured: ${errorMessage(err).split('\n')[0]}`,
    });
  }
  return checks;
}
