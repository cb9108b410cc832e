import { LABEL_STATE } from '../session/session-labels.js';
import { LOGINS_TARGET } from './session-prelude.js';

/**
 * Agent logins shared by every session of a user, in any project. Each project has its own home
 * volume, so a login made in one project's sandbox used to be gone in the next. Now one podman
 * volume per user (per mino state directory), `mino-logins-<state key>`, is mounted at
 * /opt/mino/logins in every session and holds only the agents' login files:
 *
 * - Claude Code (2.1 and later) reads and writes its login (`.credentials.json`, OAuth tokens) in
 *   `$CLAUDE_SECURESTORAGE_CONFIG_DIR`, set to /opt/mino/logins/claude. Its settings, history,
 *   project trust and transcripts (`~/.claude/`, `~/.claude.json`) stay in the project's home.
 * - Codex keeps `~/.codex/auth.json` beside its history: the session prelude links that one file
 *   to /opt/mino/logins/codex/auth.json (Codex writes through the link; measured with Codex 0.171).
 *
 * One shared file per agent also means one refresh token: a refresh in one session is seen by
 * all (copies per sandbox log each other out when the provider rotates refresh tokens).
 * The volume is mounted with podman's `U` option, so it belongs to whichever user the session's
 * image runs as. `mino login --reset` forgets the logins.
 */

/** Agents whose logins are shared, with the file that holds each login inside the volume. */
export const AGENT_LOGIN_FILES: Readonly<Record<string, string>> = {
  claude: 'claude/.credentials.json',
  codex: 'codex/auth.json',
};

/** Prefix of the logins volume's name. */
const LOGINS_VOLUME_PREFIX = 'mino-logins-';
/** Label marking the logins volume. */
const LABEL_LOGINS = 'io.mino.logins';

/** `mino-logins-<state key>`. */
export function loginsVolumeName(stateKey: string): string {
  return `${LOGINS_VOLUME_PREFIX}${stateKey}`;
}

/** Label holding the state directory the volume belongs to (gone directory = orphaned volume). */
const LABEL_LOGINS_STATE_DIR = 'io.mino.logins.state_dir';

/** Labels of a new logins volume. */
export function loginsVolumeLabels(stateKey: string, stateDir: string, createdAt: Date): Record<string, string> {
  return {
    [LABEL_LOGINS]: 'true',
    [LABEL_STATE]: stateKey,
    [LABEL_LOGINS_STATE_DIR]: stateDir,
    'io.mino.logins.created_at': createdAt.toISOString(),
  };
}

/** Plain variables that point the agents at the shared logins (no secret in them). */
export function agentLoginEnv(): Record<string, string> {
  return { CLAUDE_SECURESTORAGE_CONFIG_DIR: `${LOGINS_TARGET}/claude` };
}
