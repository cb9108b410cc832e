/**
 * Every default of mino in one place. The configuration schema takes its defaults from here, and
 * so does the run path when no file sets a value, so the two can never disagree.
 */

import { BASE_IMAGE_LATEST } from '../image/base-image-tag.js';

/** The mino base image `mino setup` builds; `mino run` uses it when nothing else is selected. */
export const DEFAULT_IMAGE = BASE_IMAGE_LATEST;

/**
 * The plain network mode a plan falls back on when it has neither a mode nor an egress policy.
 * A session whose flags and configuration choose no network is contained instead: an allowlist
 * of the `agent` preset (network/network-choice.ts, network/presets.ts DEFAULT_PRESET).
 */
export const DEFAULT_NETWORK = 'bridge' as const;

/** `container.workdir`: `/workspace` means "/<project folder name>" (mino 1.6). */
export const DEFAULT_WORKDIR = '/workspace';

/**
 * The command of a session started without one when `session.shell` is not set: the best shell
 * the image has (zsh, then bash, then sh), so mino-base gets its zsh and a busybox image its sh.
 */
export const DEFAULT_SHELL_COMMAND: readonly string[] = [
  '/bin/sh',
  '-c',
  'for s in zsh bash; do command -v "$s" >/dev/null 2>&1 && exec "$s"; done; exec sh',
];

/** `cache.max_total_gb`: disk budget of dependency caches and composed images, in GB. */
export const DEFAULT_CACHE_MAX_TOTAL_GB = 50;

/** `cache.gc_days`: caches unused for this many days are removed by `mino cache gc`. */
export const DEFAULT_CACHE_GC_DAYS = 30;

/** `session.auto_cleanup_hours`: stopped sessions are forgotten after this many hours. */
export const DEFAULT_AUTO_CLEANUP_HOURS = 720;

/** `session.idle_timeout_secs`: a session with no client attached and no output for this long is stopped. */
export const DEFAULT_IDLE_TIMEOUT_SECS = 300;

/** `session.detach_timeout_secs`: a session with no client attached for this long is stopped. */
export const DEFAULT_DETACH_TIMEOUT_SECS = 3600;

/** `session.suspend_timeout_secs`: a session suspended for this long is stopped. */
export const DEFAULT_SUSPEND_TIMEOUT_SECS = 86400;

/** Longest session timeout accepted (one year). */
export const MAX_SESSION_TIMEOUT_SECS = 365 * 24 * 3600;

/** How often at most a mino invocation looks for expired sessions (the timeout sweep). */
export const SWEEP_INTERVAL_MS = 60 * 1000;

/** `mino attach --detach-keys` default (podman's and docker's). */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** How often `mino run` reconciles sessions and checks the cache budget on its own. */
export const HOUSEKEEPING_INTERVAL_MS = 10 * 60 * 1000;

/**
 * First host uid/gid of the unprivileged range rootful sessions map container ids to (65536 of
 * them): 0x70000000, in the block systemd's user/group id conventions leave unused (no login user,
 * system user or container range of systemd's own lives there).
 */
export const ROOTFUL_ID_BASE = 0x70000000;

/**
 * The device directory rootful sessions in which a container id is host root mount as /dev
 * (launch/userns.ts, host/device-dir.ts): under /var/lib, on a filesystem that allows device
 * nodes (podman's own storage lives there too), root's alone.
 */
export const ROOTFUL_DEVICE_DIR = '/var/lib/mino/dev';

/** Seconds `podman stop` waits for a session's command after SIGTERM before SIGKILL. */
export const STOP_TIMEOUT_SECONDS = 10;

/**
 * `container.env_passthrough`: host variables every session gets (mino 1.6's `env_passthrough`
 * defaults, plus the agents' other login variables). Values that may be secrets are delivered in
 * the session env file, never on the podman command line.
 */
export const DEFAULT_ENV_PASSTHROUGH: readonly string[] = Object.freeze([
  'ANTHROPIC_API_KEY',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'OPENAI_API_KEY',
  'LANG',
  'LC_ALL',
  'TZ',
  'TERM',
]);
