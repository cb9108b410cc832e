import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Lockfile detection (mino 1.6 `lockfile.rs`): only the project root is looked at, ecosystems in
 * a fixed order, and per ecosystem the first lockfile that exists wins. The cache key is the
 * first 12 hex digits of the SHA-256 of the lockfile's bytes, so a changed lockfile gets a fresh
 * cache and an unchanged one reuses the old.
 */

/** The package ecosystems mino keeps dependency caches for, in detection order. */
export const ECOSYSTEMS = ['npm', 'yarn', 'pnpm', 'cargo', 'pip', 'poetry', 'uv', 'go'] as const;

/** One ecosystem name. */
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** Lockfile names per ecosystem, in the order they are tried (mino 1.6's table). */
export const LOCKFILES: Readonly<Record<Ecosystem, readonly string[]>> = {
  npm: ['package-lock.json', 'npm-shrinkwrap.json'],
  yarn: ['yarn.lock'],
  pnpm: ['pnpm-lock.yaml'],
  cargo: ['Cargo.lock'],
  pip: ['requirements.txt', 'Pipfile.lock'],
  poetry: ['poetry.lock'],
  uv: ['uv.lock'],
  go: ['go.sum'],
};

/** A lockfile found in a project. */
export interface DetectedLockfile {
  ecosystem: Ecosystem;
  /** File name in the project root, e.g. `package-lock.json`. */
  file: string;
  /** First 12 hex digits of sha256(file bytes). */
  hash: string;
}

/** True for a known ecosystem name. */
export function isEcosystem(value: string): value is Ecosystem {
  return (ECOSYSTEMS as readonly string[]).includes(value);
}

/** The cache key of a lockfile's content: first 12 hex digits of its SHA-256. */
export function cacheKeyOf(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

/** Reads a file, or undefined when it is missing or not a regular file. */
export type ReadFile = (path: string) => Uint8Array | undefined;

/** Reads a regular file; missing files, directories and unreadable files are undefined. */
export function readIfFile(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The lockfiles in `projectDir` (its root only), one per ecosystem, in {@link ECOSYSTEMS} order.
 * Costs one failed `open` per absent candidate (11 for a project without any) and no podman call.
 */
export function detectLockfiles(projectDir: string, read: ReadFile = readIfFile): DetectedLockfile[] {
  const found: DetectedLockfile[] = [];
  for (const ecosystem of ECOSYSTEMS) {
    for (const file of LOCKFILES[ecosystem]) {
      const content = read(join(projectDir, file));
      if (content === undefined) continue;
      found.push({ ecosystem, file, hash: cacheKeyOf(content) });
      break;
    }
  }
  return found;
}
