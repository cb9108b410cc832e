import type { SessionContext } from '../context/session-context.js';
import { planOnEngine } from '../launch/remote-plan.js';
import { hostCaBundleDigest } from './remote-ca-bundle.js';
import {
  describeReturn,
  returnCopy,
  shipCopy,
  startReturn,
  type EarlyReturn,
  type ProjectCopy,
} from '../sync/project-sync.js';
import { projectVolumeName } from '../sync/sync-state.js';
import { syncHelperOfPlan } from '../pool/remote-pool.js';
import type { PlannedRun } from './plan-run.js';
import type { RunIo, RunRequest } from './run-request.js';

/**
 * A run on a remote engine (ctx.engine set): the plan rewritten for it (launch/remote-plan.ts),
 * the project shipped into its volume there before the session and brought back after it.
 */

/** The planned run for the engine, and its project copy. */
export interface RemoteRun {
  planned: PlannedRun;
  copy: ProjectCopy;
}

/** The copy of `projectDir` on `ctx.engine` used by a session of `image`. */
function projectCopyOf(
  ctx: SessionContext & { engine: string },
  projectDir: string,
  image: string,
  exclude: readonly string[],
  protectedPaths: readonly string[],
): ProjectCopy {
  return {
    target: {
      runtime: ctx.runtime,
      engine: ctx.engine,
      volume: projectVolumeName(ctx.stateKey, projectDir),
      image,
      labels: { 'io.mino.state': ctx.stateKey },
    },
    projectDir,
    exclude,
    stateDir: ctx.stateDir,
    protectedPaths,
    keepHelper: true,
  };
}

/** Rewrites a planned run for the engine of `ctx` (undefined: a local run, unchanged). */
export function remoteRunOf(ctx: SessionContext, planned: PlannedRun, req: RunRequest): RemoteRun | undefined {
  if (ctx.engine === undefined) return undefined;
  const volume = projectVolumeName(ctx.stateKey, planned.plan.projectDir);
  const { plan, protectedPaths } = planOnEngine(planned.plan, ctx.engine, volume, {
    caBundleDigest: hostCaBundleDigest(planned.plan),
  });
  const copy = projectCopyOf(
    { ...ctx, engine: ctx.engine },
    plan.projectDir,
    plan.image,
    req.config?.syncExclude ?? [],
    protectedPaths,
  );
  // A warm pool of this plan there keeps a helper running: the trips exec into it.
  const helper = syncHelperOfPlan(ctx.stateDir, plan);
  if (helper !== undefined) copy.target.warmHelper = helper;
  return { planned: { ...planned, plan }, copy };
}

/**
 * Ships the project before the session (`sessionStarts` false: for warm containers, which change
 * nothing until a run claims one and ships again); says what travelled.
 */
export async function shipForSession(remote: RemoteRun, io: Pick<RunIo, 'say'>, sessionStarts = true): Promise<void> {
  const { ship, returned } = await shipCopy(remote.copy, sessionStarts);
  const engine = remote.copy.target.engine;
  if (returned) for (const line of describeReturn(returned, engine)) io.say(line);
  for (const path of ship.skipped.slice(0, 5))
    io.say(`Warning: ${path} cannot be shipped (a newline or backslash in its name)`);
  if (!ship.unchanged) {
    const mb = (ship.bytes / 1e6).toFixed(1);
    io.say(
      `Shipped ${ship.sent} entr${ship.sent === 1 ? 'y' : 'ies'} (${mb} MB) and ${ship.deleted} removal(s) to engine ${engine}`,
    );
  }
}

/**
 * Starts the return trip of an attached session as it starts (its helper container's start then
 * overlaps the session); hand it to {@link returnAfterSession}, or cancel it if the run fails.
 */
export function startReturnTrip(remote: RemoteRun): EarlyReturn {
  return startReturn(remote.copy);
}

/**
 * Brings the session's changes back after it ended (through `early` when it was started ahead);
 * conflicts and refusals go to `report`.
 */
export async function returnAfterSession(remote: RemoteRun, io: RunIo, early?: EarlyReturn): Promise<void> {
  const result = early ? await early.finish() : await returnCopy(remote.copy, false);
  if (!result) return;
  const report = io.report ?? io.say;
  for (const line of describeReturn(result, remote.copy.target.engine)) {
    if (line.startsWith('Brought back')) io.say(line);
    else report(line);
  }
}
