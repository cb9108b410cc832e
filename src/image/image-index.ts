import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';

/**
 * What mino last saw of its own images, so a `mino run` that reuses a composed image asks
 * podman nothing: the ID of `mino-base:latest` and the composed tags known to exist on it.
 * Kept in `<dataDir>/images.json`, written atomically. It is only a hint: `mino setup` forgets
 * it when it moves `latest`, and a run whose image turns out to be gone forgets that tag and
 * composes again. Concurrent writers may lose each other's additions, which costs a podman
 * call later, never a wrong image.
 */

/** The index contents. */
export interface ImageIndex {
  /** Full ID of `mino-base:latest` (64 hex). */
  base: string;
  /** Composed tags built on that base and seen to exist. */
  composed: string[];
}

const FILE = 'images.json';
const MAX_TAGS = 200;

/** Reads the index; undefined when missing or unreadable. */
export function readImageIndex(dataDir: string): ImageIndex | undefined {
  try {
    const raw = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Partial<ImageIndex>;
    if (typeof raw.base !== 'string' || !/^[0-9a-f]{64}$/.test(raw.base) || !Array.isArray(raw.composed))
      return undefined;
    return { base: raw.base, composed: raw.composed.filter((t): t is string => typeof t === 'string') };
  } catch {
    return undefined;
  }
}

/** Records that `tag` exists on base `base` (a new base replaces the list). Best effort. */
export function rememberComposed(dataDir: string, base: string, tag: string | undefined): void {
  const old = readImageIndex(dataDir);
  const composed = old?.base === base ? old.composed.filter((t) => t !== tag) : [];
  if (tag !== undefined) composed.push(tag);
  write(dataDir, { base, composed: composed.slice(-MAX_TAGS) });
}

/** Forgets one composed tag (it turned out to be gone). Best effort. */
export function forgetComposed(dataDir: string, tag: string): void {
  const old = readImageIndex(dataDir);
  if (old?.composed.includes(tag)) write(dataDir, { base: old.base, composed: old.composed.filter((t) => t !== tag) });
}

/** Forgets everything (the base image changed). */
export function forgetImageIndex(dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true });
}

function write(dataDir: string, index: ImageIndex): void {
  try {
    writeFileAtomic(join(dataDir, FILE), `${JSON.stringify(index)}\n`, {
      mode: 0o600,
      mkdirMode: 0o700,
      durable: false,
    });
  } catch {
    // Only an optimisation: the next run asks podman.
  }
}
