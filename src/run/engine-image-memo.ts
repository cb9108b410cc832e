import { join } from 'node:path';
import { jsonObject, readJsonCache, writeJsonCache } from '../common/json-cache-file.js';

/**
 * The user of an image on a remote engine, remembered in `<state>/engine-images.json` (0600) for
 * a few minutes, so a cold remote run asks the engine nothing before `podman run` (an `image
 * inspect` there costs a round trip: 45–90 ms over ssh). The engine's image store cannot be read
 * from here (as image-user-memo.ts does for this machine's), so the memo trusts itself for
 * {@link MEMO_SECONDS} only: an image removed there meanwhile makes the run fail with an error
 * naming it (the sync helper's start, or `podman run` explained by explain-start-failure.ts); one
 * rebuilt there with another user is seen after that time at the latest. Any problem with the
 * file only means asking the engine.
 */

/** How long a remembered answer is used. */
const MEMO_SECONDS = 300;

/** References remembered at most (oldest dropped first). */
const MAX_ENTRIES = 32;

/** What is remembered of one reference on one engine. */
interface Entry {
  /** Its default user, as `podman image inspect` gave it (`Config.User`). */
  user: string;
  /** Seconds since the epoch when the engine said so. */
  at: number;
}

function fileOf(stateDir: string): string {
  return join(stateDir, 'engine-images.json');
}

function keyOf(engine: string, ref: string): string {
  return `${engine}\n${ref}`;
}

function readAll(stateDir: string): Record<string, Entry> {
  return (readJsonCache(fileOf(stateDir), jsonObject) ?? {}) as Record<string, Entry>;
}

/** The user of `ref` on `engine`, when the engine said it less than a few minutes ago. */
export function rememberedEngineImageUser(
  stateDir: string,
  engine: string,
  ref: string,
  now = Date.now() / 1000,
): string | undefined {
  const entry = readAll(stateDir)[keyOf(engine, ref)];
  if (typeof entry?.user !== 'string' || typeof entry.at !== 'number') return undefined;
  return entry.at <= now && now - entry.at < MEMO_SECONDS ? entry.user : undefined;
}

/** Remembers that `ref` on `engine` runs as `user` (`Config.User`), as the engine said now. */
export function rememberEngineImageUser(stateDir: string, engine: string, ref: string, user: string): void {
  const key = keyOf(engine, ref);
  const all = Object.entries(readAll(stateDir)).filter(([k]) => k !== key);
  const entry: Entry = { user, at: Math.floor(Date.now() / 1000) };
  writeJsonCache(fileOf(stateDir), Object.fromEntries([...all, [key, entry]].slice(-MAX_ENTRIES)));
}
