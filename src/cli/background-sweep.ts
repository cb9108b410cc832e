import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sweepPlanFor } from '../run/housekeeping.js';
import { stampDue } from '../common/interval-stamp.js';
import { log } from '../common/logger.js';
import { selfArgv } from '../common/self-argv.js';
import { spawnDetached } from '../common/spawn-detached.js';
import { minoPaths } from '../common/xdg-paths.js';
import { SWEEP_INTERVAL_MS } from '../config/defaults.js';

/** The hidden command a background sweep runs (`mino _sweep`). */
export const SWEEP_COMMAND = '_sweep';

/**
 * The session timeout sweep of every mino invocation, made cheap: one stat of a stamp file
 * (at most one sweep per SWEEP_INTERVAL_MS per state directory); when due, the session files are
 * read and the deadlines decided from them alone; only when one has passed does a detached
 * `mino _sweep` ask the engine and stop what expired, so no command waits for a container to
 * stop. `mino gc` sweeps itself. Never throws.
 */
export function sweepInBackgroundIfDue(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const command = argv.find((a) => !a.startsWith('-'));
  if (command === SWEEP_COMMAND || command === 'gc') return;
  try {
    const { stateDir } = minoPaths(env);
    if (!existsSync(join(stateDir, 'sessions'))) return; // no session ever: nothing to time
    if (!stampDue(join(stateDir, 'last-sweep'), SWEEP_INTERVAL_MS)) return;
    if (sweepPlanFor(stateDir, env) === 'none') return;
    spawnDetached([...selfArgv(), SWEEP_COMMAND], env);
  } catch (err) {
    log.debug('session sweep check failed', { error: String(err) });
  }
}
