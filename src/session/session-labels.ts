import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { validateSessionName } from './session-name.js';

/**
 * Container name and labels of a session container. mino 1.6 left containers anonymous and
 * unlabelled, so a crashed `mino run` left orphans nothing could find. Every container is now
 * named `mino-<session>` and labelled up front, so `list`, `stop` and `gc` can reconcile sessions
 * with podman (`podman ps -a --filter label=io.mino.session`) and reap containers whose owner
 * process is gone.
 */

/** Session name, on every session container. */
export const LABEL_SESSION = 'io.mino.session';
/** PID of the `mino run` process that owns the container (dead owner + attached mode = orphan). */
export const LABEL_OWNER_PID = 'io.mino.owner-pid';
/** Canonical host project directory. */
export const LABEL_PROJECT = 'io.mino.project';
/** mino version that created the container. */
const LABEL_VERSION = 'io.mino.version';
/** Run mode: `detached`, `command` or `shell`. */
export const LABEL_MODE = 'io.mino.mode';
/**
 * Key of the state directory whose session files own the container. Reconciliation and gc only
 * touch containers with their own key, so two state directories (two users' XDG_STATE_HOME, or
 * parallel test runs) never reap each other's sessions.
 */
export const LABEL_STATE = 'io.mino.state';
/** The registered engine a session's container runs on (absent: this machine's). */
export const LABEL_ENGINE = 'io.mino.engine';

/**
 * Pool key of a container started by the warm pool (src/pool): a hash of everything that
 * makes two containers differ. Stays on the container after a run claimed it (labels are fixed).
 */
export const LABEL_POOL = 'io.mino.pool';

/** On a warm pool container: the time (seconds since the epoch) it removes itself. */
export const LABEL_POOL_EXPIRES = 'io.mino.pool.expires';

/**
 * Prefix of the names of warm pool containers nobody has claimed yet. The dot keeps them apart
 * from session containers (`mino-<session>`: session names have no dots); a run claims one by
 * renaming it to its session's container name.
 */
export const WARM_NAME_PREFIX = 'mino.warm.';

/** True for a warm pool container not claimed by a run yet (not a session's, never an orphan). */
export function isWarmContainer(c: { name: string; labels: Record<string, string> }): boolean {
  return c.name.startsWith(WARM_NAME_PREFIX) && LABEL_POOL in c.labels;
}

/** Prefix of every session container name. */
export const CONTAINER_NAME_PREFIX = 'mino-';

/**
 * `mino-<session>`. Session names follow mino 1.6: non-empty, letters, digits, `_` and `-` only
 * (at most 128 characters here). Throws a MinoError otherwise.
 */
export function containerNameFor(sessionName: string): string {
  return `${CONTAINER_NAME_PREFIX}${validateSessionName(sessionName)}`;
}

/** Inputs of {@link sessionLabels}. */
export interface SessionLabelInput {
  sessionName: string;
  ownerPid: number;
  projectDir: string;
  minoVersion: string;
  mode: 'detached' | 'command' | 'shell';
  /** Key of the owning state directory (see LABEL_STATE). */
  stateKey?: string;
}

/** The labels of a session container, in a fixed order. */
export function sessionLabels(input: SessionLabelInput): Record<string, string> {
  if (!Number.isInteger(input.ownerPid) || input.ownerPid <= 0) {
    throw new MinoError(`Invalid owner PID ${input.ownerPid}`);
  }
  if (!/^[0-9A-Za-z.+_-]{1,64}$/.test(input.minoVersion)) {
    throw new MinoError(`Invalid mino version '${printable(input.minoVersion)}'`);
  }
  return {
    [LABEL_SESSION]: input.sessionName,
    [LABEL_OWNER_PID]: String(input.ownerPid),
    [LABEL_PROJECT]: input.projectDir,
    [LABEL_VERSION]: input.minoVersion,
    [LABEL_MODE]: input.mode,
    ...(input.stateKey === undefined ? {} : { [LABEL_STATE]: input.stateKey }),
  };
}
