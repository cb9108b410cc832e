import { statSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_SETTINGS_TARGET } from './session-prelude.js';

/**
 * The host's agent settings that help an agent and are safe to share, carried into a session
 * read-only on request (`--agent-settings`, `agent.host_settings`): never the whole `~/.claude`
 * (logins, history and other projects' transcripts stay on the host).
 * - Claude Code: `~/.claude/` CLAUDE.md, settings.json, agents/, commands/, skills/.
 * - Codex: `~/.codex/` AGENTS.md, prompts/.
 * Each existing item is bind-mounted read-only at /opt/mino/host/<agent>/<item>; the session prelude
 * links it into the session's `~/.<agent>/`.
 */

/** Items carried, per agent directory under the host home. */
const HOST_SETTINGS_ITEMS: Readonly<Record<string, readonly string[]>> = {
  claude: ['CLAUDE.md', 'settings.json', 'agents', 'commands', 'skills'],
  codex: ['AGENTS.md', 'prompts'],
};

/** One host item to mount. */
export interface HostSettingsItem {
  /** Absolute host path. */
  source: string;
  /** Container path under /opt/mino/host. */
  target: string;
}

/** Host paths podman can bind-mount (`-v` splits on `:` and `,`). */
function mountable(path: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[:,\u0000-\u001f\u007f]/.test(path);
}

/** The items that exist under `homeDir`, plus the ones that cannot be mounted (their paths). */
export function hostAgentSettings(
  homeDir: string,
  exists: (path: string) => boolean = defaultExists,
): { items: HostSettingsItem[]; skipped: string[] } {
  const items: HostSettingsItem[] = [];
  const skipped: string[] = [];
  for (const [agent, names] of Object.entries(HOST_SETTINGS_ITEMS)) {
    for (const name of names) {
      const source = join(homeDir, `.${agent}`, name);
      if (!exists(source)) continue;
      if (!mountable(source)) {
        skipped.push(source);
        continue;
      }
      items.push({ source, target: `${HOST_SETTINGS_TARGET}/${agent}/${name}` });
    }
  }
  return { items, skipped };
}

function defaultExists(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() || st.isDirectory();
  } catch {
    return false;
  }
}
