import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jsonObject, readJsonCache, writeJsonCache } from '../common/json-cache-file.js';
import { imageIdInStoreIndex } from '../runtime/image-store-index.js';

/**
 * The user of an image mino did not build, remembered by image ID in `<state>/image-users.json`
 * (0600), so a cold run of the same image asks podman nothing before `podman run`: the engine's
 * image store index (`images.json`, read in a few ms where `podman image inspect` costs 60–90 ms,
 * and more on a busy machine) says which image ID the reference names now, and an image's user
 * never changes under its ID. A reference that names another image (rebuilt, re-tagged, pulled
 * again), an index that cannot tell, or no entry: podman is asked, as before. Any problem with the
 * file only means asking podman.
 */

/** References remembered at most (oldest dropped first). */
const MAX_ENTRIES = 32;

/** What is remembered of one reference. */
interface Entry {
  /** The image ID the reference named. */
  id: string;
  /** Its default user, as `podman image inspect` gave it (`Config.User`). */
  user: string;
  /** The engine's image store index it was read against. */
  index: string;
}

function fileOf(stateDir: string): string {
  return join(stateDir, 'image-users.json');
}

/** The file: the engine's image store index last learnt, and the entries by reference. */
interface Memo {
  index?: string;
  images: Record<string, Entry>;
}

function readAll(stateDir: string): Memo {
  return (
    readJsonCache(fileOf(stateDir), (value): Memo => {
      const data = jsonObject(value);
      const index = data?.index;
      return {
        ...(typeof index === 'string' && index.startsWith('/') ? { index } : {}),
        images: (jsonObject(data?.images) ?? {}) as Record<string, Entry>,
      };
    }) ?? { images: {} }
  );
}

/**
 * The engine's image store index learnt by an earlier run (finding it may take a `podman info`),
 * when that file is still there.
 */
export function rememberedStoreIndex(stateDir: string): string | undefined {
  const { index } = readAll(stateDir);
  return index !== undefined && existsSync(index) ? index : undefined;
}

/** The user (`Config.User`) of the image `ref` names, when remembered for the ID it names now. */
export function rememberedImageUser(stateDir: string, ref: string): string | undefined {
  const entry = readAll(stateDir).images[ref];
  if (
    entry === undefined ||
    typeof entry.id !== 'string' ||
    typeof entry.user !== 'string' ||
    typeof entry.index !== 'string' ||
    !entry.index.startsWith('/')
  )
    return undefined;
  return imageIdInStoreIndex(entry.index, ref) === entry.id ? entry.user : undefined;
}

/**
 * Remembers the engine's image store index `index` and, when that index names image `entry.id`
 * by `ref`, the user of that image.
 */
export function rememberImageUser(stateDir: string, ref: string, entry: Entry): void {
  const memo = readAll(stateDir);
  const all = Object.entries(memo.images).filter(([k]) => k !== ref);
  const named = imageIdInStoreIndex(entry.index, ref) === entry.id;
  const images = Object.fromEntries((named ? [...all, [ref, entry]] : all).slice(-MAX_ENTRIES));
  if (!named && memo.index === entry.index) return;
  // Read-only or full: podman is asked again next time.
  writeJsonCache(fileOf(stateDir), { index: entry.index, images } satisfies Memo);
}
